"""What the billing pages read: a booking's quote (the same split settlement makes, with no
money moved), an enterprise's vouchers, and a region's programmes by month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import OrganisationType
from scishare.accounts.service import SYSTEM
from scishare.billing.fees import set_fee_rule
from scishare.billing.models import (
    RedemptionMode,
    Settlement,
    SourceKind,
    VoucherProgramme,
    VoucherQuota,
)
from scishare.billing.quotes import Quote, quote_price
from scishare.billing.reports import programme_report, voucher_account
from scishare.billing.settlement import reverse_settlement, settle
from scishare.billing.vouchers import apply_for_quota, reject_quota
from scishare.booking.models import PriceCategory, Reservation
from scishare.catalog.models import ServiceUnit
from tests.billing.factories import (
    ZHENGZHOU,
    Market,
    a_completed_reservation,
    a_programme,
    a_quota,
    an_officer,
    money_state,
    source,
)
from tests.booking.factories import a_person, item_of, shanghai

BOOKED = shanghai(2026, 11, 24, 9)
SETTLED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOUR_ENTERPRISE = 80_000
SAMPLE_ENTERPRISE = 30_000


def hourly_quote(session: Session, market: Market, *, hours: int = 1,
                 served_at: datetime | None = None, now: datetime = BOOKED) -> Quote:
    instrument = market.home.instrument
    return quote_price(session, instrument=instrument,
                       service_item_id=item_of(instrument, ServiceUnit.HOUR),
                       actor=market.user, now=now, minutes=60 * hours,
                       served_at=served_at or shanghai(2026, 11, 25, 8 + hours))


def settled(session: Session, reservation: Reservation) -> Settlement:
    return settle(session, **source(reservation), actor=SYSTEM, now=SETTLED)  # type: ignore[arg-type]


class TestQuotePrice:
    def test_voucher_part_is_what_settlement_then_pays(self, session: Session,
                                                        market: Market) -> None:
        programme = a_programme(session, market, per_order_cap_fen=100_000)
        a_quota(session, market, programme, approved_fen=1_000_000)

        quote = hourly_quote(session, market, hours=3)
        settlement = settled(session, a_completed_reservation(session, market, hours=3))

        assert (quote.list_price_fen, quote.voucher_fen, quote.user_fen) == (
            settlement.list_price_fen, settlement.voucher_fen, settlement.user_fen)
        assert quote.voucher_fen == 100_000  # the per-order cap, below half of 2,400 yuan
        assert (quote.programme_code, quote.ratio_bps, quote.mode) == (
            programme.code, 5_000, RedemptionMode.DIRECT.value)
        assert (quote.category, quote.unit, quote.quantity) == (
            PriceCategory.ENTERPRISE.value, "hour", "3.00")
        assert quote.quota_left_fen == 1_000_000

    def test_moves_no_money_and_keeps_no_quota(self, session: Session,
                                               market: Market) -> None:
        programme = a_programme(session, market)
        quota = a_quota(session, market, programme)
        session.flush()
        before = money_state(session)

        first = hourly_quote(session, market, hours=2)
        again = hourly_quote(session, market, hours=2)

        assert first == again
        assert first.voucher_fen == HOUR_ENTERPRISE
        assert money_state(session) == before
        assert (session.get_one(VoucherProgramme, programme.id).committed_fen,
                session.get_one(VoucherQuota, quota.id).used_fen) == (0, 0)

    def test_the_quota_left_caps_the_voucher(self, session: Session, market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme, approved_fen=50_000)
        settled(session, a_completed_reservation(session, market, hours=1))

        quote = hourly_quote(session, market, hours=2)

        assert quote.quota_left_fen == 10_000
        assert (quote.voucher_fen, quote.user_fen) == (10_000, 2 * HOUR_ENTERPRISE - 10_000)

    def test_a_service_outside_the_programme_period_gets_none(self, session: Session,
                                                              market: Market) -> None:
        programme = a_programme(session, market, valid_until=date(2026, 12, 31))
        a_quota(session, market, programme)

        quote = hourly_quote(session, market, served_at=shanghai(2027, 1, 2, 10))

        assert (quote.voucher_fen, quote.programme_code, quote.year) == (0, None, 2027)
        assert quote.user_fen == quote.list_price_fen == HOUR_ENTERPRISE

    def test_non_enterprises_pay_their_list_price(self, session: Session,
                                                  market: Market) -> None:
        a_quota(session, market, a_programme(session, market))
        academic = a_person(session, org_type=OrganisationType.INSTITUTE)
        instrument = market.home.instrument

        quote = quote_price(session, instrument=instrument,
                            service_item_id=item_of(instrument, ServiceUnit.HOUR),
                            actor=academic, now=BOOKED, minutes=90)

        assert (quote.category, quote.list_price_fen, quote.voucher_fen) == (
            PriceCategory.NONPROFIT.value, 60_000, 0)

    def test_a_fee_rule_in_force_prices_the_quote(self, session: Session,
                                                  market: Market) -> None:
        instrument = market.home.instrument
        item = item_of(instrument, ServiceUnit.HOUR)
        set_fee_rule(session, instrument=instrument, service_item_id=item,
                     category=PriceCategory.ENTERPRISE, purpose=None, unit_price_fen=70_000,
                     valid_from=BOOKED - timedelta(days=1), actor=SYSTEM, now=BOOKED)

        quote = hourly_quote(session, market, hours=2)

        assert (quote.unit_price_fen, quote.list_price_fen, quote.fee_rule_id is not None) == (
            70_000, 140_000, True)

    def test_samples_are_priced_per_sample(self, session: Session, market: Market) -> None:
        a_quota(session, market, a_programme(session, market))
        instrument = market.home.instrument

        quote = quote_price(session, instrument=instrument,
                            service_item_id=item_of(instrument, ServiceUnit.SAMPLE),
                            actor=market.user, now=BOOKED, samples=3)

        assert (quote.unit, quote.list_price_fen, quote.voucher_fen) == (
            "sample", 3 * SAMPLE_ENTERPRISE, 3 * SAMPLE_ENTERPRISE // 2)


class TestVoucherAccount:
    def test_quotas_redemptions_and_applications(self, session: Session,
                                                 market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme, approved_fen=500_000)
        other = a_programme(session, market, name_zh="郑州市第二期创新券")
        applied = apply_for_quota(session, programme=other, year=2026, requested_fen=9_000,
                                  is_sme=True, actor=market.user, now=shanghai(2026, 11, 2))
        reject_quota(session, applied, reason="材料不全", actor=market.officer,
                     now=shanghai(2026, 11, 3))
        home = a_completed_reservation(session, market, hours=2)
        far = a_completed_reservation(session, market, site=market.far, hours=1)
        settled(session, home)
        settled(session, far)

        account = voucher_account(session, enterprise=market.enterprise, actor=market.user)

        [quota] = account.quotas
        assert (quota.approved_fen, quota.used_fen, quota.remaining_fen) == (
            500_000, 3 * HOUR_ENTERPRISE // 2, 500_000 - 3 * HOUR_ENTERPRISE // 2)
        assert (account.approved_fen, account.remaining_fen) == (500_000, quota.remaining_fen)
        assert sorted((r.code, r.voucher_fen, r.kind) for r in account.redemptions) == sorted([
            (f"R{home.id:07d}", HOUR_ENTERPRISE, SourceKind.RESERVATION.value),
            (f"R{far.id:07d}", HOUR_ENTERPRISE // 2, SourceKind.RESERVATION.value)])
        assert {r.provider_code for r in account.redemptions} == {
            market.home.provider.code, market.far.provider.code}
        assert {(a.programme_code, a.status, a.reason) for a in account.applications} == {
            (programme.code, "approved", ""), (other.code, "rejected", "材料不全")}

    def test_bureau_of_the_region_reads_it_and_another_enterprise_may_not(
            self, session: Session, market: Market) -> None:
        stranger = a_person(session)

        assert voucher_account(session, enterprise=market.enterprise,
                               actor=market.officer).organisation_code == market.enterprise.code
        with pytest.raises(NotAllowed):
            voucher_account(session, enterprise=market.enterprise, actor=stranger)


class TestProgrammeReport:
    def test_budget_used_orders_and_months_leave_out_reversals(
            self, session: Session, market: Market) -> None:
        programme = a_programme(session, market, budget_fen=1_000_000)
        a_quota(session, market, programme)
        settled(session, a_completed_reservation(session, market, hours=2))
        settled(session, a_completed_reservation(session, market, site=market.far, hours=1))
        wrong = settled(session, a_completed_reservation(session, market, hours=1))
        reverse_settlement(session, wrong, reason="重复", actor=SYSTEM, now=SETTLED)

        report = programme_report(session, region_code=ZHENGZHOU, year=2026,
                                  actor=market.officer)

        [figures] = report.programmes
        paid = 3 * HOUR_ENTERPRISE // 2
        assert (figures.budget_fen, figures.used_fen, figures.remaining_fen) == (
            1_000_000, paid, 1_000_000 - paid)
        assert (figures.orders, figures.enterprises, figures.providers) == (2, 1, 2)
        assert (figures.quotas_approved, figures.applications_waiting) == (1, 0)
        december = next(m for m in figures.months if m.month == "2026-12")
        assert (december.orders, december.voucher_fen) == (2, paid)
        assert len(report.months) == 12
        assert sum(m.voucher_fen for m in report.months) == paid

    def test_only_the_regions_bureau_may_read_it(self, session: Session,
                                                 market: Market) -> None:
        a_programme(session, market)

        with pytest.raises(NotAllowed):
            programme_report(session, region_code=ZHENGZHOU, year=2026,
                             actor=an_officer(session, "310100"))
        with pytest.raises(NotAllowed):
            programme_report(session, region_code=ZHENGZHOU, year=2026, actor=market.user)
