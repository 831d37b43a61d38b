"""The service finds the user: saved needs, notifications, the e-mail outbox — end to end."""

from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import OrganisationType, Role
from scishare.accounts.service import SYSTEM, Actor, actor_for, get_account
from scishare.catalog.models import Instrument, LifecycleState
from scishare.catalog.schemas import InstrumentUpdate
from scishare.catalog.service import change_lifecycle, get_instrument, update_instrument
from scishare.knowledge.schemas import SeedVersionRead
from scishare.matching.errors import BadNeed
from scishare.matching.models import DemandNotification, NotificationEmail
from scishare.matching.outbox import SmtpSettings, send_pending, smtp_sender
from scishare.matching.schemas import SubscriptionCreate
from scishare.matching.subscriptions import (
    check_subscriptions,
    mark_read,
    notifications_of,
    subscribe,
    unread_count,
    unsubscribe,
)
from tests.accounts.factories import an_account, an_organisation
from tests.catalog.factories import a_service_item, an_instrument
from tests.matching.factories import regions

NEED = "锂电池正极材料的晶体结构和物相"


@pytest.fixture
def enterprise(session: Session, seeded: SeedVersionRead) -> Actor:
    regions(session)
    company = an_organisation(session, org_type=OrganisationType.ENTERPRISE)
    account = an_account(session, organisation=company, email="buyer@example.cn")
    return actor_for(get_account(session, account.id))


def _xrd(session: Session, *, region_code: str = "410100", when: datetime,
         **values: object) -> int:
    provider = an_organisation(session, region_code=region_code)
    instrument = an_instrument(session, organisation=provider, technique_codes=["XRD"],
                               **values)
    instrument.updated_at = when
    session.flush()
    return instrument.id


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


class TestSubscribe:
    def test_saves_the_need(self, session: Session, enterprise: Actor, now: datetime) -> None:
        saved = subscribe(session, SubscriptionCreate(need=NEED, region_code="410100"),
                          actor=enterprise, now=now)

        assert (saved.need, saved.account_id, saved.is_active) == (
            NEED, enterprise.account_id, True)
        assert saved.checked_until == now

    def test_rejects_bad_needs(self, session: Session, enterprise: Actor, now: datetime) -> None:
        with pytest.raises(BadNeed) as caught:
            subscribe(session, SubscriptionCreate(need=" "), actor=enterprise, now=now)
        assert caught.value.field == "need"

    def test_operators_do_not_subscribe(self, session: Session, seeded: SeedVersionRead,
                                        now: datetime) -> None:
        operator = an_account(session, roles=(Role.OPERATOR,))

        with pytest.raises(NotAllowed):
            subscribe(session, SubscriptionCreate(need=NEED),
                      actor=actor_for(get_account(session, operator.id)), now=now)


class TestNotify:
    def test_new_matching_instrument_notifies_once_with_an_email(
            self, session: Session, enterprise: Actor, now: datetime) -> None:
        subscription = subscribe(session, SubscriptionCreate(need=NEED, region_code="410100"),
                                 actor=enterprise, now=now)
        later = now + timedelta(hours=1)
        instrument_id = _xrd(session, when=later)

        created = check_subscriptions(session, now=later + timedelta(minutes=1))

        assert [(n.subscription_id, n.instrument_id) for n in created] == [
            (subscription.id, instrument_id)]
        assert created[0].score >= subscription.threshold
        assert "XRD" in created[0].explanation
        email = session.scalars(select(NotificationEmail)).one()
        assert email.to_address == "buyer@example.cn"
        assert NEED in email.body
        assert email.sent_at is None
        listed = notifications_of(session, actor=enterprise)
        assert [n.id for n in listed] == [created[0].id]
        assert listed[0].instrument_name_zh == "X射线衍射仪"
        assert unread_count(session, actor=enterprise) == 1

    def test_no_duplicate_for_the_same_subscription_and_instrument(
            self, session: Session, enterprise: Actor, now: datetime) -> None:
        subscribe(session, SubscriptionCreate(need=NEED), actor=enterprise, now=now)
        later = now + timedelta(hours=1)
        instrument_id = _xrd(session, when=later)
        check_subscriptions(session, now=later + timedelta(minutes=1))
        row = session.get(Instrument, instrument_id)
        assert row is not None
        changed = get_instrument(session, row.exchange_id)
        update_instrument(session, changed, InstrumentUpdate(name_zh="高分辨X射线衍射仪"),
                          actor=SYSTEM, now=later + timedelta(hours=1))
        change_lifecycle(session, changed, to_state=LifecycleState.UNDER_MAINTENANCE,
                         reason="维修", actor=SYSTEM, now=later + timedelta(hours=2))
        change_lifecycle(session, changed, to_state=LifecycleState.IN_SERVICE,
                         reason="修好", actor=SYSTEM, now=later + timedelta(hours=3))

        again = check_subscriptions(session, now=later + timedelta(hours=4))

        assert again == []
        assert _count(session, DemandNotification) == 1
        assert _count(session, NotificationEmail) == 1

    def test_unrelated_far_or_too_dear_instruments_do_not_notify(
            self, session: Session, enterprise: Actor, now: datetime) -> None:
        subscribe(session, SubscriptionCreate(need=NEED, region_code="410100",
                                              budget_fen=40_000), actor=enterprise, now=now)
        later = now + timedelta(hours=1)
        _xrd(session, region_code="370100", when=later)
        _xrd(session, when=later, service_items=[a_service_item(price_enterprise_fen=90_000)])
        nmr = an_instrument(session, name_zh="核磁共振波谱仪", technique_codes=["NMR"],
                            class_code="0106")
        nmr.updated_at = later
        session.flush()

        assert check_subscriptions(session, now=later + timedelta(minutes=1)) == []

    def test_instruments_before_the_subscription_or_after_unsubscribing_are_ignored(
            self, session: Session, enterprise: Actor, now: datetime) -> None:
        _xrd(session, when=now - timedelta(days=1))
        subscription = subscribe(session, SubscriptionCreate(need=NEED), actor=enterprise,
                                 now=now)
        assert check_subscriptions(session, now=now + timedelta(minutes=1)) == []

        unsubscribe(session, subscription.id, actor=enterprise)
        _xrd(session, when=now + timedelta(hours=1))

        assert check_subscriptions(session, now=now + timedelta(hours=2)) == []

    def test_reading_a_notification(self, session: Session, enterprise: Actor,
                                    now: datetime) -> None:
        subscribe(session, SubscriptionCreate(need=NEED), actor=enterprise, now=now)
        _xrd(session, when=now + timedelta(hours=1))
        [notification] = check_subscriptions(session, now=now + timedelta(hours=2))

        mark_read(session, notification.id, actor=enterprise, now=now + timedelta(hours=3))

        assert unread_count(session, actor=enterprise) == 0
        assert notifications_of(session, actor=enterprise)[0].read_at is not None


class TestOutbox:
    def _queued(self, session: Session, enterprise: Actor, now: datetime) -> None:
        subscribe(session, SubscriptionCreate(need=NEED), actor=enterprise, now=now)
        _xrd(session, when=now + timedelta(hours=1))
        check_subscriptions(session, now=now + timedelta(hours=2))

    def test_without_smtp_nothing_is_sent(self, session: Session, enterprise: Actor,
                                          now: datetime) -> None:
        self._queued(session, enterprise, now)

        assert smtp_sender(SmtpSettings(host=None, sender=None)) is None
        assert send_pending(session, send=None, now=now) == 0
        assert session.scalars(select(NotificationEmail)).one().sent_at is None

    def test_worker_sends_and_marks_sent(self, session: Session, enterprise: Actor,
                                         now: datetime) -> None:
        self._queued(session, enterprise, now)
        outbox: list[EmailMessage] = []

        sent = send_pending(session, send=outbox.append, now=now + timedelta(hours=3))

        assert sent == 1
        assert outbox[0]["To"] == "buyer@example.cn"
        assert session.scalars(select(NotificationEmail)).one().sent_at == (
            now + timedelta(hours=3))
        assert send_pending(session, send=outbox.append, now=now) == 0

    def test_a_failed_send_is_kept_for_retry(self, session: Session, enterprise: Actor,
                                             now: datetime) -> None:
        self._queued(session, enterprise, now)

        def refuse(_message: EmailMessage) -> None:
            raise ConnectionRefusedError("no server")

        assert send_pending(session, send=refuse, now=now) == 0
        email = session.scalars(select(NotificationEmail)).one()
        assert email.sent_at is None
        assert email.attempts == 1
        assert "no server" in email.last_error
