"""Settling completed orders: price, voucher part, user part, premium; exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.billing import ledger
from scishare.billing.errors import (
    AlreadySettled,
    BadAmount,
    ForeignVoucher,
    IneligibleEnterprise,
    IneligibleProvider,
    NotCompleted,
    NotReversible,
    RefundTooLarge,
    VoucherExpired,
)
from scishare.billing.fees import Purpose, set_fee_rule
from scishare.billing.models import RedemptionMode, SourceKind
from scishare.billing.settlement import (
    refund,
    reimburse,
    reverse_settlement,
    settle,
    settle_batch,
)
from scishare.booking.models import OperationMode, PriceCategory
from scishare.booking.service import reserve
from scishare.catalog.models import ServiceUnit
from tests.billing.factories import (
    Market,
    a_completed_reservation,
    a_programme,
    a_quota,
    refused,
    source,
)
from tests.booking.factories import a_key, a_person, item_of, local_range, shanghai

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOUR_ENTERPRISE = 80_000  # 800 yuan an hour for enterprises (tests.booking.factories)


class TestSettle:
    def test_without_voucher_the_enterprise_pays_the_list_price(
            self, session: Session, market: Market) -> None:
        reservation = a_completed_reservation(session, market, hours=2)

        settlement = settle(session, **source(reservation), actor=SYSTEM,  # type: ignore[arg-type]
                            now=NOW)

        assert (settlement.list_price_fen, settlement.voucher_fen, settlement.user_fen) == (
            2 * HOUR_ENTERPRISE, 0, 2 * HOUR_ENTERPRISE)
        assert ledger.balances(session, [ledger.customer_code(market.enterprise.id),
                                         ledger.provider_code(market.home.provider.id)]) == {
            ledger.customer_code(market.enterprise.id): 2 * HOUR_ENTERPRISE,
            ledger.provider_code(market.home.provider.id): -2 * HOUR_ENTERPRISE}
        assert ledger.trial_balance(session) == 0

    def test_voucher_pays_its_ratio_and_the_fund_owes_it(self, session: Session,
                                                          market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme)
        reservation = a_completed_reservation(session, market, hours=3)

        settlement = settle(session, **source(reservation), actor=SYSTEM, now=NOW)  # type: ignore[arg-type]

        assert settlement.voucher_fen == 3 * HOUR_ENTERPRISE // 2
        assert settlement.user_fen == 3 * HOUR_ENTERPRISE - settlement.voucher_fen
        assert settlement.programme_id == programme.id
        assert programme.committed_fen == settlement.voucher_fen
        assert ledger.balance(session, ledger.fund_code("410100")) == settlement.voucher_fen
        assert ledger.unbalanced_journals(session) == []

    def test_caps_limit_the_voucher(self, session: Session, market: Market) -> None:
        programme = a_programme(session, market, per_order_cap_fen=10_000,
                                per_enterprise_year_cap_fen=15_000)
        quota = a_quota(session, market, programme, approved_fen=15_000)
        first = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                       actor=SYSTEM, now=NOW)
        second = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                        actor=SYSTEM, now=NOW)
        third = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                       actor=SYSTEM, now=NOW)

        assert [first.voucher_fen, second.voucher_fen, third.voucher_fen] == [10_000, 5_000, 0]
        assert quota.used_fen == 15_000

    def test_budget_limits_the_voucher(self, session: Session, market: Market) -> None:
        programme = a_programme(session, market, budget_fen=30_000)
        a_quota(session, market, programme)
        first = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                       actor=SYSTEM, now=NOW)
        second = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                        actor=SYSTEM, now=NOW)

        assert (first.voucher_fen, second.voucher_fen) == (30_000, 0)
        assert programme.committed_fen == programme.budget_fen

    def test_price_is_the_rule_in_force_at_booking(self, session: Session,
                                                   market: Market) -> None:
        instrument = market.home.instrument
        item = item_of(instrument, ServiceUnit.HOUR)
        set_fee_rule(session, instrument=instrument, service_item_id=item,
                     category=PriceCategory.ENTERPRISE, purpose=Purpose.RESEARCH,
                     unit_price_fen=60_000, valid_from=shanghai(2026, 11, 1), actor=SYSTEM,
                     now=shanghai(2026, 11, 1))
        reservation = a_completed_reservation(session, market, purpose="research")
        # A price rise after booking does not reprice the booked order.
        set_fee_rule(session, instrument=instrument, service_item_id=item,
                     category=PriceCategory.ENTERPRISE, purpose=Purpose.RESEARCH,
                     unit_price_fen=99_000, valid_from=shanghai(2026, 11, 24, 12),
                     actor=SYSTEM, now=shanghai(2026, 11, 24, 12))

        settlement = settle(session, **source(reservation), actor=SYSTEM, now=NOW)  # type: ignore[arg-type]
        other = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                       actor=SYSTEM, now=NOW)

        assert settlement.list_price_fen == 60_000
        assert other.list_price_fen == HOUR_ENTERPRISE

    def test_cross_region_voucher_is_owed_to_the_other_region(
            self, session: Session, market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme)
        reservation = a_completed_reservation(session, market, site=market.far)

        settlement = settle(session, **source(reservation), actor=SYSTEM, now=NOW)  # type: ignore[arg-type]

        assert settlement.voucher_fen == HOUR_ENTERPRISE // 2
        assert ledger.balance(session, ledger.provider_code(market.far.provider.id)) == (
            -HOUR_ENTERPRISE)

    def test_reimburse_mode_pays_in_full_then_back(self, session: Session,
                                                   market: Market) -> None:
        programme = a_programme(session, market, mode=RedemptionMode.REIMBURSE)
        a_quota(session, market, programme)
        settlement = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                            actor=SYSTEM, now=NOW)
        customer = ledger.customer_code(market.enterprise.id)
        assert ledger.balance(session, customer) == HOUR_ENTERPRISE

        reimburse(session, settlement, actor=market.officer, now=NOW)

        assert ledger.balance(session, customer) == HOUR_ENTERPRISE // 2
        refused(session, NotReversible, None,
                lambda: reimburse(session, settlement, actor=market.officer, now=NOW))

    def test_batch_settles_every_completed_order_once(self, session: Session,
                                                      market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme)
        for _ in range(5):
            a_completed_reservation(session, market)
        a_completed_reservation(session, market, site=market.far)

        assert settle_batch(session, actor=SYSTEM, now=NOW, limit=4,
                            platform_fee_bps=100).settled == 4
        assert settle_batch(session, actor=SYSTEM, now=NOW, limit=4).settled == 2
        assert settle_batch(session, actor=SYSTEM, now=NOW).settled == 0
        assert ledger.trial_balance(session) == 0
        assert ledger.balance(session, ledger.PLATFORM) == -4 * 800


class TestBadInput:
    def test_settling_twice_is_refused(self, session: Session, market: Market) -> None:
        reservation = a_completed_reservation(session, market)
        settle(session, **source(reservation), actor=SYSTEM, now=NOW)  # type: ignore[arg-type]

        refused(session, AlreadySettled, None, lambda: settle(
            session, **source(reservation), actor=SYSTEM, now=NOW))  # type: ignore[arg-type]

    def test_unfinished_order_is_not_settled(self, session: Session, market: Market) -> None:
        reservation = reserve(session, instrument=market.home.instrument,
                              period=local_range(2026, 12, 20, "09:00", "10:00"),
                              mode=OperationMode.ASSISTED, idempotency_key=a_key(),
                              actor=market.user, now=shanghai(2026, 11, 24, 9),
                              service_item_id=item_of(market.home.instrument, ServiceUnit.HOUR))

        refused(session, NotCompleted, "status", lambda: settle(
            session, **source(reservation), actor=SYSTEM, now=NOW))  # type: ignore[arg-type]

    def test_expired_voucher_is_refused(self, session: Session, market: Market) -> None:
        programme = a_programme(session, market, valid_from=date(2026, 1, 1),
                                valid_until=date(2026, 11, 20))
        a_quota(session, market, programme)
        reservation = a_completed_reservation(session, market)

        refused(session, VoucherExpired, "valid_until", lambda: settle(
            session, **source(reservation), actor=SYSTEM, now=NOW,  # type: ignore[arg-type]
            programme=programme))

    def test_foreign_voucher_is_refused(self, session: Session, market: Market) -> None:
        programme = a_programme(session, market)
        reservation = a_completed_reservation(session, market)

        refused(session, ForeignVoucher, "programme", lambda: settle(
            session, **source(reservation), actor=SYSTEM, now=NOW,  # type: ignore[arg-type]
            programme=programme))

    def test_ineligible_provider_is_refused(self, session: Session, market: Market) -> None:
        programme = a_programme(session, market, partner_regions=[])
        a_quota(session, market, programme)
        reservation = a_completed_reservation(session, market, site=market.far)

        refused(session, IneligibleProvider, "provider", lambda: settle(
            session, **source(reservation), actor=SYSTEM, now=NOW,  # type: ignore[arg-type]
            programme=programme))

    def test_ineligible_enterprise_is_refused(self, session: Session, market: Market) -> None:
        from scishare.accounts.models import OrganisationType

        programme = a_programme(session, market)
        university_user = a_person(session, org_type=OrganisationType.INSTITUTE)
        reservation = a_completed_reservation(session, market, user=university_user)

        refused(session, IneligibleEnterprise, "enterprise", lambda: settle(
            session, **source(reservation), actor=SYSTEM, now=NOW,  # type: ignore[arg-type]
            programme=programme))

    @pytest.mark.parametrize(("amount", "error", "field"), [
        (HOUR_ENTERPRISE + 1, RefundTooLarge, "amount_fen"),
        (-5, BadAmount, "amount_fen"),
        (12.5, BadAmount, "amount_fen"),
        (0, BadAmount, "amount_fen"),
    ])
    def test_refund_beyond_what_was_paid_is_refused(
            self, session: Session, market: Market, amount: object, error: type[Exception],
            field: str) -> None:
        settlement = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                            actor=SYSTEM, now=NOW)

        refused(session, error, field, lambda: refund(  # type: ignore[arg-type]
            session, settlement, amount_fen=amount, key="r1", reason="damaged sample",  # type: ignore[arg-type]
            actor=market.home.operator, now=NOW))


class TestRefundAndReverse:
    def test_refunds_add_up_to_what_was_paid(self, session: Session, market: Market) -> None:
        settlement = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                            actor=SYSTEM, now=NOW)
        refund(session, settlement, amount_fen=30_000, key="r1", reason="late start",
               actor=market.home.operator, now=NOW)
        refund(session, settlement, amount_fen=50_000, key="r2", reason="late start",
               actor=market.home.operator, now=NOW)

        refused(session, RefundTooLarge, "amount_fen", lambda: refund(
            session, settlement, amount_fen=1, key="r3", reason="again",
            actor=market.home.operator, now=NOW))
        assert ledger.balance(session, ledger.customer_code(market.enterprise.id)) == 0
        assert ledger.trial_balance(session) == 0

    def test_reversal_negates_the_journal_and_returns_the_voucher(
            self, session: Session, market: Market) -> None:
        programme = a_programme(session, market)
        quota = a_quota(session, market, programme)
        settlement = settle(session, **source(a_completed_reservation(  # type: ignore[arg-type]
            session, market, site=market.far)), actor=SYSTEM, now=NOW)

        reverse_settlement(session, settlement, reason="wrong service", actor=SYSTEM, now=NOW)

        assert programme.committed_fen == 0
        assert quota.used_fen == 0
        for code in (ledger.customer_code(market.enterprise.id), ledger.fund_code("410100"),
                     ledger.provider_code(market.far.provider.id)):
            assert ledger.balance(session, code) == 0
        refused(session, NotReversible, None, lambda: reverse_settlement(
            session, settlement, reason="again", actor=SYSTEM, now=NOW))


def test_sources_are_settled_by_kind() -> None:
    assert {kind.value for kind in SourceKind} == {"reservation", "order"}
