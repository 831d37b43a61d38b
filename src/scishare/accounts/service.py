"""Organisations, accounts, role grants, sign-in and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scishare.accounts.errors import (
    BadCredentials,
    BadRoleGrant,
    DuplicateAccount,
    DuplicateOrganisation,
    NotAllowed,
)
from scishare.accounts.models import (
    AccessToken,
    Account,
    Organisation,
    Role,
    RoleGrant,
    TokenKind,
)
from scishare.accounts.permissions import Action, Grant, Target, grant_allows
from scishare.accounts.schemas import AccountCreate, OrganisationCreate, OrganisationUpdate
from scishare.core.errors import InvalidInput, NotFound
from scishare.regions.service import get_region

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Actor:
    """The signed-in person as services see them: who, from where, holding which roles."""

    account_id: int
    organisation_id: int
    grants: tuple[Grant, ...]

    def has_role(self, role: Role) -> bool:
        return any(grant.role is role for grant in self.grants)

    def may(self, action: Action, target: Target) -> bool:
        return any(grant_allows(grant, action, target) for grant in self.grants)


# The CLI and the demo builder act as the platform itself (an operator at the console).
SYSTEM = Actor(account_id=0, organisation_id=0,
               grants=(Grant(role=Role.PLATFORM_ADMIN, organisation_id=0, region_code=None),))


def authorize(actor: Actor | None, action: Action, target: Target, *, record: str) -> None:
    """Raise NotAllowed unless one of the actor's roles permits `action` on `target`."""
    if actor is None or not actor.may(action, target):
        raise NotAllowed(f"not allowed to {action.value}", record=record)


def actor_for(account: Account) -> Actor:
    grants = tuple(Grant(role=Role(g.role), organisation_id=account.organisation_id,
                         region_code=g.region_code) for g in account.role_grants)
    return Actor(account_id=account.id, organisation_id=account.organisation_id, grants=grants)


# Organisations -----------------------------------------------------------------------------

def register_organisation(session: Session, data: OrganisationCreate, *,
                          now: datetime) -> Organisation:
    """Add an organisation; its code, Chinese name and credit code are unique."""
    record = f"organisation {data.code}"
    get_region(session, data.region_code)
    same = [Organisation.code == data.code, Organisation.name_zh == data.name_zh]
    if data.credit_code:
        same.append(Organisation.credit_code == data.credit_code)
    clash = session.scalars(select(Organisation).where(or_(*same))).first()
    if clash is not None:
        field = ("code" if clash.code == data.code else
                 "name_zh" if clash.name_zh == data.name_zh else "credit_code")
        raise DuplicateOrganisation(f"already registered as {clash.code}",
                                    record=record, field=field)
    organisation = Organisation(**data.model_dump(), created_at=now)
    session.add(organisation)
    session.flush()
    return organisation


def update_organisation(session: Session, organisation: Organisation, data: OrganisationUpdate,
                        *, actor: Actor) -> Organisation:
    """Change an organisation's profile; only its own provider admin or a platform admin."""
    authorize(actor, Action.EDIT_ORGANISATION, Target(organisation_id=organisation.id,
              region_code=organisation.region_code), record=f"organisation {organisation.code}")
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(organisation, key, value)
    session.flush()
    return organisation


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"no organisation with id {organisation_id}",
                       record=f"organisation {organisation_id}")
    return organisation


def get_organisation_by_code(session: Session, code: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        raise NotFound(f"no organisation with code {code}", record=f"organisation {code}",
                       field="code")
    return organisation


def organisations_by_key(session: Session) -> dict[str, Organisation]:
    """Every organisation under its code and its Chinese name (for imports)."""
    found: dict[str, Organisation] = {}
    for organisation in session.scalars(select(Organisation)):
        found[organisation.code] = organisation
        found[organisation.name_zh] = organisation
    return found


def list_organisations(session: Session, *, region_codes: list[str] | None = None
                       ) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.code)
    if region_codes:
        query = query.where(Organisation.region_code.in_(region_codes))
    return list(session.scalars(query))


# Accounts and roles ------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def register_account(session: Session, data: AccountCreate, *, now: datetime,
                     roles: tuple[Role, ...] = (Role.DEMANDER,),
                     region_code: str | None = None) -> Account:
    """Create a person in an organisation with the given roles (demander by default)."""
    email = data.email.strip().lower()
    get_organisation(session, data.organisation_id)
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise DuplicateAccount("e-mail already registered", record=f"account {email}",
                               field="email")
    account = Account(email=email, display_name=data.display_name,
                      organisation_id=data.organisation_id,
                      password_hash=hash_password(data.password), is_active=True, created_at=now)
    session.add(account)
    session.flush()
    for role in roles:
        grant_role(session, account=account, role=role, now=now,
                   region_code=region_code if role is Role.BUREAU_OFFICER else None)
    return account


def grant_role(session: Session, *, account: Account, role: Role, now: datetime,
               region_code: str | None = None) -> RoleGrant:
    """Give `account` a role; a bureau officer's grant names its region, no other does."""
    record = f"account {account.email}"
    if role is Role.BUREAU_OFFICER:
        if region_code is None:
            raise BadRoleGrant("a bureau officer needs a region", record=record,
                               field="region_code")
        get_region(session, region_code)
    elif region_code is not None:
        raise BadRoleGrant(f"{role.value} is not held per region", record=record,
                           field="region_code")
    existing = session.scalar(select(RoleGrant).where(
        RoleGrant.account_id == account.id, RoleGrant.role == role,
        RoleGrant.region_code.is_(None) if region_code is None
        else RoleGrant.region_code == region_code))
    if existing is not None:
        return existing
    grant = RoleGrant(account_id=account.id, role=role, region_code=region_code, granted_at=now)
    session.add(grant)
    session.flush()
    return grant


def get_account(session: Session, account_id: int) -> Account:
    account = session.scalar(select(Account).where(Account.id == account_id).options(
        selectinload(Account.role_grants), selectinload(Account.organisation)))
    if account is None:
        raise NotFound(f"no account with id {account_id}", record=f"account {account_id}")
    return account


def find_account_by_email(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == email.strip().lower()))


# Sign-in and tokens ------------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _issue(session: Session, *, account: Account, kind: TokenKind, name: str, now: datetime,
           expires_at: datetime | None) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(AccessToken(account_id=account.id, kind=kind, name=name,
                            secret_hash=_digest(secret), created_at=now, expires_at=expires_at))
    session.flush()
    return secret


def sign_in(session: Session, *, email: str, password: str, now: datetime,
            session_days: int = 14) -> tuple[Account, str]:
    """Check the password and open a browser session; returns the account and cookie secret."""
    account = find_account_by_email(session, email)
    record = f"account {email.strip().lower()}"
    if account is None or not account.is_active:
        raise BadCredentials("wrong e-mail or password", record=record)
    try:
        _hasher.verify(account.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        raise BadCredentials("wrong e-mail or password", record=record) from None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    secret = _issue(session, account=account, kind=TokenKind.SESSION, name="browser",
                    now=now, expires_at=now + timedelta(days=session_days))
    return account, secret


def issue_api_token(session: Session, *, account: Account, name: str, now: datetime,
                    days: int | None = 365) -> str:
    """Create a bearer token for scripts; the secret is shown once and stored only hashed."""
    if not name.strip():
        raise InvalidInput("a token needs a name", record="api token", field="name")
    expires_at = now + timedelta(days=days) if days else None
    return _issue(session, account=account, kind=TokenKind.API, name=name.strip(), now=now,
                  expires_at=expires_at)


def authenticate(session: Session, *, secret: str, now: datetime) -> Account:
    """The account behind a session or API token that is neither expired nor revoked."""
    token = session.scalar(select(AccessToken).where(AccessToken.secret_hash == _digest(secret)))
    if (token is None or token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= now)):
        raise BadCredentials("token unknown, expired or revoked", record="access token")
    account = get_account(session, token.account_id)
    if not account.is_active:
        raise BadCredentials("account disabled", record=f"account {account.email}")
    return account


def revoke_token(session: Session, *, secret: str, now: datetime) -> None:
    """End a session or API token; unknown secrets are ignored (signing out twice is fine)."""
    token = session.scalar(select(AccessToken).where(AccessToken.secret_hash == _digest(secret)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = now
        session.flush()
