"""The billing API: an organisation's statement (JSON, XLSX or PDF), a booking's price quote
with its voucher part, an enterprise's vouchers, and a region's programmes by month."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from scishare.accounts.models import Account, Role
from scishare.billing import ledger
from scishare.billing.models import JournalKind
from scishare.catalog.models import ServiceUnit
from tests.web.conftest import sign_in
from tests.web.seed import Catalog, a_person
from tests.web.test_billing_pages import (
    Vouchers,
    a_settled_reservation,
    item,
    zhengzhou_vouchers,
)

DECEMBER = {"from": "2026-12-01", "to": "2027-01-01"}


@pytest.fixture
def postings(session: Session, catalog: Catalog) -> None:
    """The university earned 500 yuan on 1 December and paid back 20 on 2 January."""
    for key, amount, moment in (("api-test:1", -50_000, datetime(2026, 12, 1, 2, tzinfo=UTC)),
                                ("api-test:2", 2_000, datetime(2027, 1, 2, 2, tzinfo=UTC))):
        ledger.post(session, ledger.Entry(
            key=key, kind=JournalKind.SETTLEMENT, memo="test",
            lines=((ledger.provider(catalog.university.id), amount),
                   (ledger.platform(), -amount))), actor_id=None, now=moment)
    session.flush()


def url(catalog: Catalog) -> str:
    return f"/api/billing/statements/{catalog.university.code}"


class TestStatement:
    def test_own_provider_admin_reads_json(self, client: TestClient, catalog: Catalog,
                                           provider: Account, postings: None,
                                           session: Session) -> None:
        sign_in(client, provider)

        response = client.get(url(catalog), params=DECEMBER)

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["opening_fen"], body["credit_fen"], body["closing_fen"]) == (
            0, 50_000, -50_000)
        assert [(line["posted_on"], line["credit_fen"]) for line in body["lines"]] == [
            ("2026-12-01", 50_000)]
        assert body["lines"][0]["counterparty"] == ledger.PLATFORM
        assert ledger.balance(session, ledger.provider_code(catalog.university.id),
                              until=datetime(2026, 12, 31, 16, tzinfo=UTC)) == -50_000

    def test_platform_admin_downloads_xlsx_and_pdf(self, client: TestClient,
                                                   catalog: Catalog, session: Session,
                                                   postings: None) -> None:
        admin = a_person(session, catalog.institute, Role.PLATFORM_ADMIN, "ops@example.cn")
        sign_in(client, admin)

        xlsx = client.get(url(catalog), params=DECEMBER | {"format": "xlsx"})
        pdf = client.get(url(catalog), params=DECEMBER | {"format": "pdf"})

        assert xlsx.status_code == 200, xlsx.text
        assert "spreadsheetml" in xlsx.headers["content-type"]
        assert "attachment" in xlsx.headers["content-disposition"]
        rows = list(load_workbook(io.BytesIO(xlsx.content)).active  # type: ignore[union-attr]
                    .iter_rows(values_only=True))
        assert rows[-1][7] == "-500.00"
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")

    def test_another_organisations_admin_is_refused(self, client: TestClient,
                                                    catalog: Catalog, other_provider: Account,
                                                    postings: None) -> None:
        sign_in(client, other_provider)

        response = client.get(url(catalog), params=DECEMBER)

        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"

    def test_needs_a_sign_in(self, client: TestClient, catalog: Catalog) -> None:
        assert client.get(url(catalog), params=DECEMBER).status_code == 401

    def test_refuses_a_period_ending_before_it_starts(self, client: TestClient,
                                                      catalog: Catalog,
                                                      provider: Account) -> None:
        sign_in(client, provider)

        response = client.get(url(catalog), params={"from": "2026-12-31", "to": "2026-12-01"})

        assert response.status_code == 422
        assert response.json()["field"] == "end"

    def test_unknown_organisation_is_404(self, client: TestClient, catalog: Catalog,
                                         provider: Account) -> None:
        sign_in(client, provider)

        response = client.get("/api/billing/statements/NOPE", params=DECEMBER)

        assert response.status_code == 404

    def test_refuses_an_unknown_format(self, client: TestClient, catalog: Catalog,
                                       provider: Account) -> None:
        sign_in(client, provider)

        response = client.get(url(catalog), params=DECEMBER | {"format": "csv"})

        assert response.status_code == 422


@pytest.fixture
def vouchers(session: Session, catalog: Catalog) -> Vouchers:
    return zhengzhou_vouchers(session, catalog)


def quote_url(catalog: Catalog) -> str:
    return f"/api/instruments/{catalog.xrd.exchange_id}/price-quote"


class TestQuote:
    def test_enterprise_gets_the_voucher_part(self, client: TestClient, catalog: Catalog,
                                              vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)

        response = client.get(quote_url(catalog), params={
            "service_item_id": item(catalog.xrd, ServiceUnit.HOUR), "minutes": 90,
            "ends_at": "2026-11-25T11:30:00+08:00"})

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["list_price_fen"], body["voucher_fen"], body["user_fen"]) == (
            90_000, 45_000, 45_000)
        assert (body["category"], body["programme_code"], body["mode"], body["year"]) == (
            "enterprise", "ZZ-2026", "direct", 2026)
        assert body["quota_left_fen"] == 500_000

    def test_samples_and_the_per_order_cap(self, client: TestClient, catalog: Catalog,
                                           vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)

        body = client.get(quote_url(catalog), params={
            "service_item_id": item(catalog.xrd, ServiceUnit.SAMPLE), "samples": 10}).json()

        assert (body["unit"], body["list_price_fen"], body["voucher_fen"]) == (
            "sample", 300_000, 100_000)

    def test_a_quote_keeps_nothing(self, client: TestClient, session: Session,
                                   catalog: Catalog, vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)
        params = {"service_item_id": item(catalog.xrd, ServiceUnit.HOUR), "minutes": 60}

        first = client.get(quote_url(catalog), params=params).json()
        second = client.get(quote_url(catalog), params=params).json()

        assert first == second
        session.expire_all()
        assert vouchers.programme.committed_fen == 0

    def test_refusals(self, client: TestClient, catalog: Catalog,
                      vouchers: Vouchers) -> None:
        params = {"service_item_id": item(catalog.xrd, ServiceUnit.HOUR), "minutes": 60}
        assert client.get(quote_url(catalog), params=params).status_code == 401
        sign_in(client, vouchers.user)

        missing = client.get(quote_url(catalog), params={"service_item_id": params[
            "service_item_id"]})
        unknown = client.get("/api/instruments/ZZ-9999999/price-quote", params=params)
        wrong_item = client.get(quote_url(catalog), params={"service_item_id": 999_999,
                                                            "minutes": 60})

        assert (missing.status_code, missing.json()["field"]) == (422, "minutes")
        assert unknown.status_code == 404
        assert (wrong_item.status_code, wrong_item.json()["field"]) == (422, "service_item_id")


class TestVouchers:
    def test_enterprise_reads_quotas_redemptions_and_applications(
            self, client: TestClient, session: Session, catalog: Catalog,
            vouchers: Vouchers, now: datetime) -> None:
        reservation = a_settled_reservation(session, catalog.xrd, vouchers.user, now=now)
        sign_in(client, vouchers.user)

        response = client.get("/api/billing/vouchers/YULI")

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["approved_fen"], body["used_fen"], body["remaining_fen"]) == (
            500_000, 60_000, 440_000)
        assert [(q["programme_code"], q["remaining_fen"]) for q in body["quotas"]] == [
            ("ZZ-2026", 440_000)]
        assert [(r["code"], r["settled_on"], r["voucher_fen"], r["provider_code"])
                for r in body["redemptions"]] == [
            (f"R{reservation.id:07d}", "2026-11-25", 60_000, "ZZU")]
        assert [a["status"] for a in body["applications"]] == ["approved"]

    def test_another_organisations_people_are_refused(
            self, client: TestClient, vouchers: Vouchers, provider: Account) -> None:
        sign_in(client, provider)

        response = client.get("/api/billing/vouchers/YULI")

        assert (response.status_code, response.json()["error"]) == (403, "forbidden")


class TestProgrammes:
    def test_officer_reads_the_regions_programmes_by_month(
            self, client: TestClient, session: Session, catalog: Catalog,
            vouchers: Vouchers, now: datetime) -> None:
        a_settled_reservation(session, catalog.xrd, vouchers.user, now=now)
        sign_in(client, vouchers.officer)

        response = client.get("/api/billing/programmes", params={"region": "410100"})

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["year"], body["budget_fen"], body["used_fen"]) == (2026, 100_000_000,
                                                                         60_000)
        [programme] = body["programmes"]
        assert (programme["code"], programme["orders"], programme["enterprises"],
                programme["providers"], programme["remaining_fen"]) == (
            "ZZ-2026", 1, 1, 1, 100_000_000 - 60_000)
        november = body["months"][10]
        assert (november["month"], november["orders"], november["voucher_fen"]) == (
            "2026-11", 1, 60_000)

    def test_refusals(self, client: TestClient, vouchers: Vouchers) -> None:
        sign_in(client, vouchers.user)
        assert client.get("/api/billing/programmes",
                          params={"region": "410100"}).status_code == 403

        sign_in(client, vouchers.officer)
        assert client.get("/api/billing/programmes").status_code == 422
        assert client.get("/api/billing/programmes",
                          params={"region": "999999"}).status_code == 403
