"""Sign-in sessions for browsers and scripts, and API tokens for integrations."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from scishare.accounts.schemas import AccountRead, RoleGrantRead
from scishare.accounts.service import get_account, issue_api_token, revoke_token, sign_in
from scishare.core.settings import get_settings
from scishare.web.api.common import errors
from scishare.web.deps import (
    SESSION_COOKIE,
    ClockDep,
    CurrentUser,
    SessionDep,
    SignedIn,
    end_session,
    start_session,
)

router = APIRouter(prefix="/auth", tags=["auth"])


class Credentials(BaseModel):
    email: str = Field(max_length=254, examples=["admin@example.cn"])
    password: str = Field(max_length=200)


class Me(BaseModel):
    """The signed-in account, its organisation and its roles."""

    account: AccountRead
    organisation_code: str
    roles: list[RoleGrantRead]


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["LIMS sync"])
    days: int | None = Field(default=365, ge=1, le=3650,
                             description="Lifetime in days; null for a token that never "
                                         "expires.")


class IssuedToken(BaseModel):
    """A new API token. The secret is shown this once; only its hash is stored."""

    name: str
    token: str
    expires_at: datetime | None


def _me(user: SignedIn) -> Me:
    return Me(account=AccountRead.model_validate(user.account),
              organisation_code=user.account.organisation.code,
              roles=[RoleGrantRead.model_validate(grant) for grant in user.account.role_grants])


@router.post("/signin", summary="Sign in; sets the scishare_session cookie",
             responses=errors(401, 422))
def signin(session: SessionDep, now: ClockDep, credentials: Credentials,
           response: Response) -> Me:
    account, secret = sign_in(session, email=credentials.email, password=credentials.password,
                              now=now, session_days=get_settings().session_days)
    start_session(response, secret)
    return _me(SignedIn.of(get_account(session, account.id)))


@router.post("/signout", summary="End this sign-in session",
             status_code=status.HTTP_204_NO_CONTENT)
def signout(session: SessionDep, now: ClockDep, request: Request, response: Response) -> None:
    revoke_token(session, secret=request.cookies.get(SESSION_COOKIE, ""), now=now)
    end_session(response)


@router.get("/me", summary="Who is signed in", responses=errors(401))
def me(user: CurrentUser) -> Me:
    return _me(user)


@router.post("/tokens", summary="Issue an API token for the signed-in account",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 422))
def issue_token(session: SessionDep, user: CurrentUser, now: ClockDep,
                wanted: TokenRequest) -> IssuedToken:
    """Use it as `Authorization: Bearer <token>`; keep it safe, it is not shown again."""
    secret = issue_api_token(session, account=user.account, name=wanted.name, now=now,
                             days=wanted.days)
    expires_at = now + timedelta(days=wanted.days) if wanted.days else None
    return IssuedToken(name=wanted.name.strip(), token=secret, expires_at=expires_at)
