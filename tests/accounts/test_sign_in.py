from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import BadCredentials, BadRoleGrant, DuplicateAccount
from scishare.accounts.models import AccessToken, Role
from scishare.accounts.schemas import AccountCreate
from scishare.accounts.service import (
    authenticate,
    grant_role,
    issue_api_token,
    register_account,
    revoke_token,
    sign_in,
)
from tests.accounts.factories import an_account, an_organisation


class TestSignIn:
    def test_right_password_opens_a_session(self, session: Session, now: datetime) -> None:
        account = an_account(session, email="li.lei@zzu.edu.cn", password="s3cret-pass")

        signed_in, secret = sign_in(session, email="Li.Lei@zzu.edu.cn ", password="s3cret-pass",
                                    now=now)

        assert signed_in.id == account.id
        assert authenticate(session, secret=secret, now=now).id == account.id

    def test_password_is_stored_as_argon2(self, session: Session) -> None:
        account = an_account(session, password="s3cret-pass")
        assert account.password_hash.startswith("$argon2id$")
        assert "s3cret-pass" not in account.password_hash

    def test_wrong_password_is_refused(self, session: Session, now: datetime) -> None:
        an_account(session, email="han.mei@zzu.edu.cn")
        with pytest.raises(BadCredentials):
            sign_in(session, email="han.mei@zzu.edu.cn", password="guess", now=now)

    def test_unknown_email_is_refused_the_same_way(self, session: Session,
                                                   now: datetime) -> None:
        with pytest.raises(BadCredentials, match="wrong e-mail or password"):
            sign_in(session, email="nobody@example.cn", password="whatever1", now=now)

    def test_session_expires(self, session: Session, now: datetime) -> None:
        an_account(session, email="wang@zzu.edu.cn", password="s3cret-pass")
        _, secret = sign_in(session, email="wang@zzu.edu.cn", password="s3cret-pass", now=now,
                            session_days=1)
        with pytest.raises(BadCredentials):
            authenticate(session, secret=secret, now=now + timedelta(days=1, seconds=1))

    def test_sign_out_revokes(self, session: Session, now: datetime) -> None:
        an_account(session, email="zhao@zzu.edu.cn", password="s3cret-pass")
        _, secret = sign_in(session, email="zhao@zzu.edu.cn", password="s3cret-pass", now=now)
        revoke_token(session, secret=secret, now=now)
        with pytest.raises(BadCredentials):
            authenticate(session, secret=secret, now=now)


class TestApiTokens:
    def test_token_authenticates_and_is_stored_hashed(self, session: Session,
                                                      now: datetime) -> None:
        account = an_account(session)
        secret = issue_api_token(session, account=account, name="sync script", now=now)

        assert authenticate(session, secret=secret, now=now).id == account.id
        stored = session.query(AccessToken).filter_by(account_id=account.id).one()
        assert stored.secret_hash != secret
        assert len(stored.secret_hash) == 64


class TestRegisterAccount:
    def test_rejects_duplicate_email(self, session: Session, now: datetime) -> None:
        organisation = an_organisation(session)
        an_account(session, organisation=organisation, email="dup@example.cn")
        with pytest.raises(DuplicateAccount) as raised:
            register_account(session, AccountCreate(
                email="DUP@example.cn", display_name="x", password="long enough",
                organisation_id=organisation.id), now=now)
        assert raised.value.field == "email"

    def test_bureau_officer_needs_a_region(self, session: Session, now: datetime) -> None:
        account = an_account(session)
        with pytest.raises(BadRoleGrant):
            grant_role(session, account=account, role=Role.BUREAU_OFFICER, now=now)

    def test_only_bureau_officers_hold_a_region(self, session: Session, now: datetime) -> None:
        account = an_account(session)
        with pytest.raises(BadRoleGrant):
            grant_role(session, account=account, role=Role.OPERATOR, now=now,
                       region_code="410100")
