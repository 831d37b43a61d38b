"""Request dependencies: the transaction, the clock, the language and who is signed in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from scishare.accounts.models import Account, Organisation
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, actor_for, authenticate
from scishare.core.clock import utcnow
from scishare.core.errors import Unauthenticated
from scishare.core.settings import get_settings
from scishare.web import csrf
from scishare.web.i18n import DEFAULT_LOCALE, LANGUAGES
from scishare.web.templating import LANG_COOKIE, Page, Templates

SESSION_COOKIE = "scishare_session"


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the route succeeds, else rolled back.

    Services only flush; this is the one place web requests commit.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function" ends the transaction when the route returns, before the response is sent,
# so a failing commit becomes an error response instead of a success that was never stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def now() -> datetime:
    """The current time; tests override this dependency to pin it."""
    return utcnow()


ClockDep = Annotated[datetime, Depends(now)]


def negotiate_locale(request: Request) -> str:
    """`?lang=zh|en` first, then the `lang` cookie, else Simplified Chinese."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return LANGUAGES[choice]
    return DEFAULT_LOCALE


LocaleDep = Annotated[str, Depends(negotiate_locale)]


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request: their account and what they may do."""

    account: Account
    actor: Actor

    @classmethod
    def of(cls, account: Account) -> SignedIn:
        """For an account loaded with its organisation and role grants (`get_account`)."""
        return cls(account=account, actor=actor_for(account))

    def may(self, action: Action, organisation: Organisation | None = None) -> bool:
        """Whether the person may do `action` on `organisation`'s records (default: their own)."""
        organisation = organisation or self.account.organisation
        return self.actor.may(action, Target(organisation_id=organisation.id,
                                             region_code=organisation.region_code))


def optional_user(request: Request, session: SessionDep, now: ClockDep) -> SignedIn | None:
    """A bearer token must be valid; a stale sign-in cookie just means browsing anonymously."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("expected 'Authorization: Bearer <token>'",
                                  record="access token")
        account = authenticate(session, secret=secret.strip(), now=now)
    else:
        secret = request.cookies.get(SESSION_COOKIE, "")
        if not secret:
            return None
        try:
            account = authenticate(session, secret=secret, now=now)
        except Unauthenticated:
            return None
    return SignedIn.of(account)


OptionalUser = Annotated[SignedIn | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> SignedIn:
    if user is None:
        raise Unauthenticated("sign in first", record="session")
    return user


CurrentUser = Annotated[SignedIn, Depends(current_user)]


def templates(request: Request) -> Templates:
    found: Templates = request.app.state.templates
    return found


def page(request: Request, locale: LocaleDep, user: OptionalUser) -> Page:
    return Page(request=request, templates=templates(request), locale=locale, user=user)


PageDep = Annotated[Page, Depends(page)]


class FormRejected(Exception):
    """A form sent back to its author with the problems marked.

    Raised rather than returned so that the request's transaction is rolled back like for any
    other error: nothing from the rejected attempt is stored. `app.py` sends the page.
    """

    def __init__(self, response: Response) -> None:
        super().__init__("form rejected")
        self.response = response


async def form_data(request: Request) -> FormData:
    """The posted form as sent, for forms whose fields are not known in advance."""
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def checked_form(request: Request, form: FormDep,
                 csrf_token: Annotated[str, Form()] = "") -> FormData:
    """The posted form, once its CSRF token matches the browser's cookie."""
    csrf.verify(request, csrf_token)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def start_session(response: Response, secret: str) -> None:
    """Hand the browser its sign-in cookie: script-proof, not sent by other sites' forms."""
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, secret, max_age=settings.session_days * 24 * 3600,
                        httponly=True, samesite="lax", secure=settings.cookie_secure)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
