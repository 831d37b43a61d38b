"""Signing in and out with the browser form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from scishare.accounts.service import revoke_token, sign_in
from scishare.core.errors import Unauthenticated
from scishare.core.settings import get_settings
from scishare.web.deps import (
    SESSION_COOKIE,
    CheckedForm,
    ClockDep,
    FormRejected,
    PageDep,
    SessionDep,
    checked_form,
    end_session,
    start_session,
)
from scishare.web.labels import N_

router = APIRouter()

WRONG_CREDENTIALS = N_("Wrong e-mail or password.")


def safe_next(target: str) -> str:
    """Only a path on this site: `next` must not send a fresh sign-in to another host."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/signin", response_class=HTMLResponse)
def signin_form(page: PageDep, next_path: Annotated[str, Query(alias="next")] = "/"
                ) -> HTMLResponse:
    return page.render("auth/signin.html", next=safe_next(next_path), email="", error="")


@router.post("/signin")
def signin(page: PageDep, session: SessionDep, now: ClockDep,
           form: CheckedForm) -> RedirectResponse:
    email, target = str(form.get("email", "")), safe_next(str(form.get("next", "/")))
    try:
        _, secret = sign_in(session, email=email, password=str(form.get("password", "")),
                            now=now, session_days=get_settings().session_days)
    except Unauthenticated:
        raise FormRejected(page.render(
            "auth/signin.html", status_code=401, next=target, email=email,
            error=page.gettext(WRONG_CREDENTIALS))) from None
    response = RedirectResponse(target, status_code=303)
    start_session(response, secret)
    return response


@router.post("/signout", dependencies=[Depends(checked_form)])
def signout(page: PageDep, session: SessionDep, now: ClockDep) -> RedirectResponse:
    revoke_token(session, secret=page.request.cookies.get(SESSION_COOKIE, ""), now=now)
    response = RedirectResponse("/", status_code=303)
    end_session(response)
    return response
