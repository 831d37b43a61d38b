"""Programmes and quotas, the cost-recovery calculator, shared-use insurance and clearing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.service import SYSTEM
from scishare.billing import ledger
from scishare.billing.clearing import lines_of, reconcile, run_clearing
from scishare.billing.errors import (
    BadAmount,
    BadPeriod,
    BadRatio,
    ClaimNotCovered,
    IneligibleEnterprise,
    QuotaAlreadyDecided,
)
from scishare.billing.fees import CostBuildUp, propose_nonprofit_price
from scishare.billing.insurance import assess_claim, file_claim, require_cover
from scishare.billing.settlement import reverse_settlement, settle
from scishare.billing.vouchers import apply_for_quota, approve_quota
from scishare.booking.models import OperationMode
from tests.billing.factories import (
    Market,
    a_completed_reservation,
    a_programme,
    a_quota,
    an_officer,
    refused,
    source,
)
from tests.booking.factories import shanghai

NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)


class TestDefineProgramme:
    @pytest.mark.parametrize(("field", "value", "error"), [
        ("budget_fen", -1, BadAmount),
        ("budget_fen", 10.5, BadAmount),
        ("ratio_bps", 10_001, BadRatio),
        ("ratio_bps", 0, BadRatio),
        ("per_order_cap_fen", -100, BadAmount),
        ("per_enterprise_year_cap_fen", -1, BadAmount),
        ("valid_until", date(2025, 1, 1), BadPeriod),
    ])
    def test_bad_terms_are_refused(self, session: Session, market: Market, field: str,
                                   value: object, error: type[Exception]) -> None:
        refused(session, error, field,  # type: ignore[arg-type]
                lambda: a_programme(session, market, **{field: value}))

    def test_an_officer_acts_only_in_their_region(self, session: Session,
                                                  market: Market) -> None:
        refused(session, NotAllowed, None,
                lambda: a_programme(session, market, region_code="310100"))


class TestQuota:
    def test_application_and_decision_are_recorded(self, session: Session,
                                                   market: Market) -> None:
        programme = a_programme(session, market)
        quota = a_quota(session, market, programme, approved_fen=500_000)

        assert (quota.status, quota.approved_fen) == ("approved", 500_000)
        refused(session, QuotaAlreadyDecided, "status", lambda: approve_quota(
            session, quota, approved_fen=1, actor=market.officer, now=NOW))

    def test_sme_only_programme_refuses_a_large_enterprise(self, session: Session,
                                                           market: Market) -> None:
        programme = a_programme(session, market, sme_only=True)

        refused(session, IneligibleEnterprise, "is_sme", lambda: apply_for_quota(
            session, programme=programme, year=2026, requested_fen=1_000, is_sme=False,
            actor=market.user, now=NOW))

    def test_enterprise_of_another_region_is_refused(self, session: Session,
                                                     market: Market) -> None:
        programme = a_programme(session, market, region_code="410100")
        from tests.billing.factories import shanghai_region
        from tests.booking.factories import a_person

        shanghai_region(session)
        from scishare.accounts.models import OrganisationType
        from tests.accounts.factories import an_organisation

        far_enterprise = an_organisation(session, org_type=OrganisationType.ENTERPRISE,
                                         region_code="310100")
        refused(session, IneligibleEnterprise, "enterprise", lambda: apply_for_quota(
            session, programme=programme, year=2026, requested_fen=1_000, is_sme=True,
            actor=a_person(session, organisation=far_enterprise), now=NOW))


def test_cost_recovery_follows_the_worked_example() -> None:
    # CNY 800k over 5 years and 800 rated hours: CNY 200 an hour of depreciation.
    price = propose_nonprofit_price(CostBuildUp(
        consumables_fen=5_000, staff_fen=10_000, original_value_fen=80_000_000,
        depreciation_years=5, rated_hours=800, maintenance_bps=600, management_bps=1_000))

    assert price.depreciation_fen == 20_000
    assert price.maintenance_fen == 6_000
    assert price.hourly_price_fen == (5_000 + 10_000 + 20_000 + 6_000) * 11 // 10


class TestInsurance:
    def test_premium_at_settlement_and_claim_capped_by_cover(self, session: Session,
                                                             market: Market) -> None:
        require_cover(session, code="GX-1", provider_id=market.home.provider.id,
                      instrument_id=None, insurer_code="PICC", insurer_name="人保财险",
                      premium_bps=300, cover_fen=50_000, deductible_fen=1_000,
                      valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31),
                      actor=SYSTEM, now=NOW)
        covered = settle(session, **source(a_completed_reservation(  # type: ignore[arg-type]
            session, market, mode=OperationMode.SELF_OPERATED)), actor=SYSTEM, now=NOW)
        assisted = settle(session, **source(a_completed_reservation(  # type: ignore[arg-type]
            session, market)), actor=SYSTEM, now=NOW)

        assert covered.premium_fen == 80_000 * 300 // 10_000
        assert assisted.premium_fen == 0
        claim = file_claim(session, settlement=covered, claimed_fen=90_000,
                           description="划伤样品台", actor=SYSTEM, now=NOW)
        assess_claim(session, claim, assessed_fen=80_000, actor=SYSTEM, now=NOW)

        assert claim.payout_fen == 50_000
        assert ledger.balance(session, ledger.insurer_code("PICC")) == 50_000 - 2_400
        refused(session, ClaimNotCovered, "settlement", lambda: file_claim(
            session, settlement=assisted, claimed_fen=1, description="x", actor=SYSTEM,
            now=NOW))
        assert ledger.trial_balance(session) == 0


class TestClearing:
    def test_lines_are_cleared_once_and_reconcile(self, session: Session,
                                                  market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme)
        far = [settle(session, **source(a_completed_reservation(  # type: ignore[arg-type]
            session, market, site=market.far)), actor=SYSTEM, now=NOW) for _ in range(2)]
        settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
               actor=SYSTEM, now=NOW)
        officer = an_officer(session)

        [statement] = run_clearing(session, fund_region_code="410100",
                                   period_start=date(2026, 11, 1), period_end=date(2026, 12, 2),
                                   actor=officer, now=shanghai(2026, 12, 2, 9))

        assert statement.total_fen == sum(s.voucher_fen for s in far)
        assert len(lines_of(session, statement)) == 2
        assert reconcile(session, statement).agrees
        assert ledger.balance(session, ledger.fund_code("310100")) == statement.total_fen
        assert run_clearing(session, fund_region_code="410100", period_start=date(2026, 11, 1),
                            period_end=date(2026, 12, 2), actor=officer, now=NOW) == []

        reverse_settlement(session, far[0], reason="wrong", actor=SYSTEM, now=NOW)
        [netting] = run_clearing(session, fund_region_code="410100",
                                 period_start=date(2026, 12, 2), period_end=date(2027, 1, 1),
                                 actor=officer, now=shanghai(2027, 1, 1, 9))
        assert netting.total_fen == -far[0].voucher_fen
        assert ledger.trial_balance(session) == 0

    def test_a_correction_after_clearing_goes_on_a_supplementary_statement(
            self, session: Session, market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme)
        far = settle(session, **source(a_completed_reservation(  # type: ignore[arg-type]
            session, market, site=market.far)), actor=SYSTEM, now=NOW)
        period = {"fund_region_code": "410100", "period_start": date(2026, 11, 1),
                  "period_end": date(2027, 1, 1), "actor": SYSTEM, "now": NOW}
        [first] = run_clearing(session, **period)  # type: ignore[arg-type]

        reverse_settlement(session, far, reason="wrong", actor=SYSTEM, now=NOW)
        [supplement] = run_clearing(session, **period)  # type: ignore[arg-type]

        assert (first.sequence, supplement.sequence) == (1, 2)
        assert supplement.total_fen == -first.total_fen
        assert reconcile(session, supplement).agrees
        assert run_clearing(session, **period) == []  # type: ignore[arg-type]
        assert ledger.balance(session, ledger.fund_code("310100")) == 0
        assert ledger.trial_balance(session) == 0
