"""Every role × action × target, written out by hand so the policy table cannot drift.

`own` is a record of the actor's organisation; `peer` another organisation in the actor's
city; `far` an organisation in another province.
"""

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import Role
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, actor_for, get_account
from scishare.catalog.models import LifecycleState
from scishare.catalog.schemas import InstrumentCreate, InstrumentUpdate
from scishare.catalog.service import change_lifecycle, register_instrument, update_instrument
from tests.accounts.factories import WHEN, an_account, an_organisation
from tests.catalog.factories import an_instrument

OWN = Target(organisation_id=1, region_code="410100")
PEER = Target(organisation_id=2, region_code="410100")
FAR = Target(organisation_id=3, region_code="370100")

# (role, action): which of own / peer / far the action is allowed on.
EXPECTED: dict[tuple[Role, Action], tuple[bool, bool, bool]] = {
    (Role.PLATFORM_ADMIN, Action.VIEW_CATALOG): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.REGISTER_INSTRUMENT): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.EDIT_INSTRUMENT): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.CHANGE_LIFECYCLE): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.IMPORT_CATALOG): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.EDIT_ORGANISATION): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.MANAGE_ACCOUNTS): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.VIEW_REGION_REPORTS): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.EDIT_KNOWLEDGE): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.SUBSCRIBE_DEMAND): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.BOOK_INSTRUMENT): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.RUN_BOOKING_QUEUE): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.SET_AVAILABILITY): (True, True, True),
    (Role.BUREAU_OFFICER, Action.VIEW_CATALOG): (True, True, True),
    (Role.BUREAU_OFFICER, Action.REGISTER_INSTRUMENT): (False, False, False),
    (Role.BUREAU_OFFICER, Action.EDIT_INSTRUMENT): (False, False, False),
    (Role.BUREAU_OFFICER, Action.CHANGE_LIFECYCLE): (False, False, False),
    (Role.BUREAU_OFFICER, Action.IMPORT_CATALOG): (False, False, False),
    (Role.BUREAU_OFFICER, Action.EDIT_ORGANISATION): (False, False, False),
    (Role.BUREAU_OFFICER, Action.MANAGE_ACCOUNTS): (False, False, False),
    (Role.BUREAU_OFFICER, Action.VIEW_REGION_REPORTS): (True, True, False),
    (Role.BUREAU_OFFICER, Action.EDIT_KNOWLEDGE): (False, False, False),
    (Role.BUREAU_OFFICER, Action.SUBSCRIBE_DEMAND): (False, False, False),
    (Role.BUREAU_OFFICER, Action.BOOK_INSTRUMENT): (False, False, False),
    (Role.BUREAU_OFFICER, Action.RUN_BOOKING_QUEUE): (False, False, False),
    (Role.BUREAU_OFFICER, Action.SET_AVAILABILITY): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.VIEW_CATALOG): (True, True, True),
    (Role.PROVIDER_ADMIN, Action.REGISTER_INSTRUMENT): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.EDIT_INSTRUMENT): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.CHANGE_LIFECYCLE): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.IMPORT_CATALOG): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.EDIT_ORGANISATION): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.MANAGE_ACCOUNTS): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.VIEW_REGION_REPORTS): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.EDIT_KNOWLEDGE): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.SUBSCRIBE_DEMAND): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.BOOK_INSTRUMENT): (True, True, True),
    (Role.PROVIDER_ADMIN, Action.RUN_BOOKING_QUEUE): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.SET_AVAILABILITY): (True, False, False),
    (Role.OPERATOR, Action.VIEW_CATALOG): (True, True, True),
    (Role.OPERATOR, Action.REGISTER_INSTRUMENT): (False, False, False),
    (Role.OPERATOR, Action.EDIT_INSTRUMENT): (True, False, False),
    (Role.OPERATOR, Action.CHANGE_LIFECYCLE): (True, False, False),
    (Role.OPERATOR, Action.IMPORT_CATALOG): (False, False, False),
    (Role.OPERATOR, Action.EDIT_ORGANISATION): (False, False, False),
    (Role.OPERATOR, Action.MANAGE_ACCOUNTS): (False, False, False),
    (Role.OPERATOR, Action.VIEW_REGION_REPORTS): (False, False, False),
    (Role.OPERATOR, Action.EDIT_KNOWLEDGE): (False, False, False),
    (Role.OPERATOR, Action.SUBSCRIBE_DEMAND): (False, False, False),
    (Role.OPERATOR, Action.BOOK_INSTRUMENT): (True, True, True),
    (Role.OPERATOR, Action.RUN_BOOKING_QUEUE): (True, False, False),
    (Role.OPERATOR, Action.SET_AVAILABILITY): (True, False, False),
    (Role.DEMANDER, Action.VIEW_CATALOG): (True, True, True),
    (Role.DEMANDER, Action.REGISTER_INSTRUMENT): (False, False, False),
    (Role.DEMANDER, Action.EDIT_INSTRUMENT): (False, False, False),
    (Role.DEMANDER, Action.CHANGE_LIFECYCLE): (False, False, False),
    (Role.DEMANDER, Action.IMPORT_CATALOG): (False, False, False),
    (Role.DEMANDER, Action.EDIT_ORGANISATION): (False, False, False),
    (Role.DEMANDER, Action.MANAGE_ACCOUNTS): (False, False, False),
    (Role.DEMANDER, Action.VIEW_REGION_REPORTS): (False, False, False),
    (Role.DEMANDER, Action.EDIT_KNOWLEDGE): (False, False, False),
    (Role.DEMANDER, Action.SUBSCRIBE_DEMAND): (True, False, False),
    (Role.DEMANDER, Action.BOOK_INSTRUMENT): (True, True, True),
    (Role.DEMANDER, Action.RUN_BOOKING_QUEUE): (False, False, False),
    (Role.DEMANDER, Action.SET_AVAILABILITY): (False, False, False),
    # Billing (issue 6).
    (Role.PLATFORM_ADMIN, Action.DEFINE_PROGRAMME): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.APPLY_FOR_QUOTA): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.APPROVE_QUOTA): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.SETTLE_ORDER): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.VIEW_STATEMENTS): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.RUN_CLEARING): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.MANAGE_INSURANCE): (True, True, True),
    (Role.PLATFORM_ADMIN, Action.ASSESS_CLAIM): (True, True, True),
    (Role.BUREAU_OFFICER, Action.DEFINE_PROGRAMME): (True, True, False),
    (Role.BUREAU_OFFICER, Action.APPLY_FOR_QUOTA): (False, False, False),
    (Role.BUREAU_OFFICER, Action.APPROVE_QUOTA): (True, True, False),
    (Role.BUREAU_OFFICER, Action.SETTLE_ORDER): (False, False, False),
    (Role.BUREAU_OFFICER, Action.VIEW_STATEMENTS): (True, True, False),
    (Role.BUREAU_OFFICER, Action.RUN_CLEARING): (True, True, False),
    (Role.BUREAU_OFFICER, Action.MANAGE_INSURANCE): (False, False, False),
    (Role.BUREAU_OFFICER, Action.ASSESS_CLAIM): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.DEFINE_PROGRAMME): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.APPLY_FOR_QUOTA): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.APPROVE_QUOTA): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.SETTLE_ORDER): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.VIEW_STATEMENTS): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.RUN_CLEARING): (False, False, False),
    (Role.PROVIDER_ADMIN, Action.MANAGE_INSURANCE): (True, False, False),
    (Role.PROVIDER_ADMIN, Action.ASSESS_CLAIM): (False, False, False),
    (Role.OPERATOR, Action.DEFINE_PROGRAMME): (False, False, False),
    (Role.OPERATOR, Action.APPLY_FOR_QUOTA): (False, False, False),
    (Role.OPERATOR, Action.APPROVE_QUOTA): (False, False, False),
    (Role.OPERATOR, Action.SETTLE_ORDER): (True, False, False),
    (Role.OPERATOR, Action.VIEW_STATEMENTS): (False, False, False),
    (Role.OPERATOR, Action.RUN_CLEARING): (False, False, False),
    (Role.OPERATOR, Action.MANAGE_INSURANCE): (False, False, False),
    (Role.OPERATOR, Action.ASSESS_CLAIM): (False, False, False),
    (Role.DEMANDER, Action.DEFINE_PROGRAMME): (False, False, False),
    (Role.DEMANDER, Action.APPLY_FOR_QUOTA): (True, False, False),
    (Role.DEMANDER, Action.APPROVE_QUOTA): (False, False, False),
    (Role.DEMANDER, Action.SETTLE_ORDER): (False, False, False),
    (Role.DEMANDER, Action.VIEW_STATEMENTS): (True, False, False),
    (Role.DEMANDER, Action.RUN_CLEARING): (False, False, False),
    (Role.DEMANDER, Action.MANAGE_INSURANCE): (False, False, False),
    (Role.DEMANDER, Action.ASSESS_CLAIM): (False, False, False),
}


def test_table_covers_every_role_and_action() -> None:
    assert set(EXPECTED) == {(role, action) for role in Role for action in Action}


@pytest.mark.parametrize(("role", "action"), sorted(EXPECTED), ids=lambda v: str(v))
def test_role_may_act_only_in_its_scope(role: Role, action: Action) -> None:
    from scishare.accounts.permissions import Grant

    region = "410100" if role is Role.BUREAU_OFFICER else None
    actor = Actor(account_id=9, organisation_id=1,
                  grants=(Grant(role=role, organisation_id=1, region_code=region),))

    allowed = tuple(actor.may(action, target) for target in (OWN, PEER, FAR))

    assert allowed == EXPECTED[(role, action)]


def test_province_officer_oversees_its_cities() -> None:
    from scishare.accounts.permissions import Grant

    officer = Actor(account_id=9, organisation_id=1, grants=(
        Grant(role=Role.BUREAU_OFFICER, organisation_id=1, region_code="410000"),))

    assert officer.may(Action.VIEW_REGION_REPORTS, PEER)
    assert not officer.may(Action.VIEW_REGION_REPORTS, FAR)


class TestServicesEnforceThePolicy:
    """The same rules hold when a real account calls the catalog services."""

    def _actor(self, session: Session, role: Role, organisation_id: int) -> Actor:
        from scishare.accounts.service import get_organisation

        account = an_account(session, organisation=get_organisation(session, organisation_id),
                             roles=(role,))
        return actor_for(get_account(session, account.id))

    def test_provider_admin_edits_own_instrument(self, session: Session,
                                                 now: datetime) -> None:
        instrument = an_instrument(session)
        admin = self._actor(session, Role.PROVIDER_ADMIN, instrument.organisation_id)

        update_instrument(session, instrument, InstrumentUpdate(name_zh="场发射扫描电镜"),
                          actor=admin, now=now)

        assert instrument.name_zh == "场发射扫描电镜"

    def test_provider_admin_cannot_touch_another_organisations_instrument(
            self, session: Session, now: datetime) -> None:
        instrument = an_instrument(session)
        elsewhere = an_organisation(session)
        admin = self._actor(session, Role.PROVIDER_ADMIN, elsewhere.id)

        with pytest.raises(NotAllowed):
            update_instrument(session, instrument, InstrumentUpdate(name_zh="x"), actor=admin,
                              now=now)
        with pytest.raises(NotAllowed):
            change_lifecycle(session, instrument, to_state=LifecycleState.IDLE, reason="r",
                             actor=admin, now=now)
        with pytest.raises(NotAllowed):
            register_instrument(session, InstrumentCreate(
                exchange_id="ZZ-0099999", organisation_id=instrument.organisation_id,
                name_zh="质谱仪", class_code="0102", original_value_fen=1,
                region_code="410100"), actor=admin, now=WHEN)

    @pytest.mark.parametrize("role", [Role.DEMANDER, Role.BUREAU_OFFICER])
    def test_demanders_and_officers_edit_nothing(self, session: Session, now: datetime,
                                                 role: Role) -> None:
        instrument = an_instrument(session)
        if role is Role.BUREAU_OFFICER:
            account = an_account(session, roles=(role,), region_code="410100")
            actor = actor_for(get_account(session, account.id))
        else:
            actor = self._actor(session, role, instrument.organisation_id)

        with pytest.raises(NotAllowed):
            update_instrument(session, instrument, InstrumentUpdate(name_zh="x"), actor=actor,
                              now=now)
