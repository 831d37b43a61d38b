"""Statements of an organisation's ledger accounts for a period, and their XLSX and PDF."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import Role
from scishare.accounts.service import SYSTEM
from scishare.billing import ledger
from scishare.billing.errors import BadPeriod
from scishare.billing.settlement import refund, settle
from scishare.billing.statements import (
    Statement,
    local_midnight,
    statement,
    statement_pdf,
    statement_xlsx,
    yuan,
)
from tests.billing.factories import (
    Market,
    a_completed_reservation,
    a_programme,
    a_quota,
    source,
)
from tests.booking.factories import a_person

SETTLED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 December in Shanghai
REFUNDED = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
HOUR_ENTERPRISE = 80_000
DECEMBER = {"start": date(2026, 12, 1), "end": date(2027, 1, 1)}


def settled_and_refunded(session: Session, market: Market, *,
                         settled_at: datetime = SETTLED) -> int:
    """Two hours settled (1,600 yuan), then 100 yuan refunded; the settlement's user part."""
    reservation = a_completed_reservation(session, market, hours=2)
    settlement = settle(session, **source(reservation), actor=SYSTEM,  # type: ignore[arg-type]
                        now=settled_at)
    refund(session, settlement, amount_fen=10_000, key="r1", reason="late start",
           actor=SYSTEM, now=REFUNDED)
    return settlement.user_fen


def enterprise_statement(session: Session, market: Market, **period: date) -> Statement:
    return statement(session, organisation=market.enterprise, actor=SYSTEM,
                     **(period or DECEMBER))


class TestStatement:
    def test_lists_settlement_and_refund_and_closes_at_the_ledger_balance(
            self, session: Session, market: Market) -> None:
        settled_and_refunded(session, market)

        found = enterprise_statement(session, market)

        customer = ledger.customer_code(market.enterprise.id)
        assert found.accounts == (customer,)
        assert found.opening_fen == 0
        assert [(line.posted_on, line.kind, line.debit_fen, line.credit_fen)
                for line in found.lines] == [
            (date(2026, 12, 1), "settlement", 2 * HOUR_ENTERPRISE, 0),
            (date(2026, 12, 3), "refund", 0, 10_000)]
        assert [line.balance_fen for line in found.lines] == [160_000, 150_000]
        assert found.closing_fen == 150_000 == ledger.balance(session, customer)
        assert all(ledger.provider_code(market.home.provider.id) in line.counterparty
                   and market.home.provider.name_zh in line.counterparty
                   for line in found.lines)
        assert found.lines[1].reference.startswith("refund:")

    def test_opening_balance_carries_earlier_postings(self, session: Session,
                                                       market: Market) -> None:
        settled_and_refunded(session, market)

        found = enterprise_statement(session, market, start=date(2026, 12, 2),
                                     end=date(2026, 12, 10))

        customer = ledger.customer_code(market.enterprise.id)
        assert found.opening_fen == ledger.balance(
            session, customer, until=local_midnight(date(2026, 12, 2))) == 160_000
        assert [line.kind for line in found.lines] == ["refund"]
        assert found.closing_fen == ledger.balance(
            session, customer, until=local_midnight(date(2026, 12, 10)))

    def test_days_are_shanghai_days(self, session: Session, market: Market) -> None:
        # 17:00 UTC on 30 November is 01:00 on 1 December in Shanghai.
        settled_and_refunded(session, market, settled_at=datetime(2026, 11, 30, 17, 0,
                                                                  tzinfo=UTC))

        november = enterprise_statement(session, market, start=date(2026, 11, 1),
                                        end=date(2026, 12, 1))
        december = enterprise_statement(session, market)

        assert november.lines == ()
        assert december.lines[0].posted_on == date(2026, 12, 1)

    def test_provider_and_fund_sides_reconcile(self, session: Session,
                                               market: Market) -> None:
        programme = a_programme(session, market)
        a_quota(session, market, programme)
        settled_and_refunded(session, market)

        found = statement(session, organisation=market.home.provider, actor=SYSTEM,
                          **DECEMBER)

        provider = ledger.provider_code(market.home.provider.id)
        assert found.credit_fen == 2 * HOUR_ENTERPRISE
        assert found.debit_fen == 10_000
        assert found.closing_fen == ledger.balance(session, provider) == -150_000
        assert ledger.fund_code(programme.region_code) in found.lines[0].counterparty

    def test_covers_every_account_of_the_organisation(self, session: Session,
                                                      market: Market) -> None:
        # The home university both provides (to the enterprise) and uses (the far site).
        settled_and_refunded(session, market)
        researcher = a_person(session, organisation=market.home.provider)
        used = a_completed_reservation(session, market, site=market.far, user=researcher)
        settle(session, **source(used), actor=SYSTEM, now=SETTLED)  # type: ignore[arg-type]

        found = statement(session, organisation=market.home.provider, actor=SYSTEM,
                          **DECEMBER)

        codes = (ledger.customer_code(market.home.provider.id),
                 ledger.provider_code(market.home.provider.id))
        assert found.accounts == tuple(sorted(codes))
        assert {line.account for line in found.lines} == set(codes)
        assert found.closing_fen == sum(ledger.balances(session, codes).values())
        assert found.closing_fen == found.opening_fen + found.debit_fen - found.credit_fen

    def test_an_organisation_without_postings_has_an_empty_statement(
            self, session: Session, market: Market) -> None:
        found = enterprise_statement(session, market)

        assert (found.opening_fen, found.lines, found.closing_fen) == (0, (), 0)

    def test_refuses_a_period_that_ends_before_it_starts(self, session: Session,
                                                         market: Market) -> None:
        with pytest.raises(BadPeriod) as caught:
            enterprise_statement(session, market, start=date(2026, 12, 2),
                                 end=date(2026, 12, 2))
        assert caught.value.field == "end"

    def test_refuses_another_organisations_staff(self, session: Session,
                                                 market: Market) -> None:
        stranger = a_person(session, organisation=market.home.provider,
                            roles=(Role.PROVIDER_ADMIN,))

        with pytest.raises(NotAllowed):
            statement(session, organisation=market.enterprise, actor=stranger, **DECEMBER)

    def test_the_organisations_own_admin_may_read_it(self, session: Session,
                                                     market: Market) -> None:
        admin = a_person(session, organisation=market.home.provider,
                         roles=(Role.PROVIDER_ADMIN,))

        found = statement(session, organisation=market.home.provider, actor=admin,
                          **DECEMBER)

        assert found.organisation_code == market.home.provider.code


class TestRenderers:
    def test_xlsx_holds_the_lines_and_balances(self, session: Session,
                                               market: Market) -> None:
        settled_and_refunded(session, market)
        found = enterprise_statement(session, market)

        book = load_workbook(io.BytesIO(statement_xlsx(found)))

        rows = [tuple(row) for row in book.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
        assert market.enterprise.name_zh in str(rows[0][0])
        references = {line.reference for line in found.lines}
        body = [row for row in rows if row[2] in references]
        assert [(row[0], row[5], row[6], row[7]) for row in body] == [
            ("2026-12-01", "1,600.00", None, "1,600.00"),
            ("2026-12-03", None, "100.00", "1,500.00")]
        assert rows[-1][7] == yuan(found.closing_fen) == "1,500.00"

    def test_pdf_is_a_pdf_with_a_page(self, session: Session, market: Market) -> None:
        settled_and_refunded(session, market)
        found = enterprise_statement(session, market)

        pdf = statement_pdf(found)

        assert pdf.startswith(b"%PDF-")
        assert b"/Type /Page" in pdf or b"/Type/Page" in pdf


def test_yuan_is_exact() -> None:
    assert [yuan(fen) for fen in (0, 5, 123_450, -100_001)] == [
        "0.00", "0.05", "1,234.50", "-1,000.01"]
