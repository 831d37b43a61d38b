"""GET /api/billing/statements/{org_code}: JSON, XLSX or PDF, for the organisation's own
administrators and the platform's."""

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
from tests.web.conftest import sign_in
from tests.web.seed import Catalog, a_person

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
