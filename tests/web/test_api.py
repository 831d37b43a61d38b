"""The JSON API: thin routes over the services, errors in one shape."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import Account, Role
from scishare.matching.models import NeedRecord
from tests.accounts.factories import an_account
from tests.web.conftest import sign_in
from tests.web.seed import Catalog


def new_instrument(catalog: Catalog, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "exchange_id": "ZZ-0000999", "organisation_id": catalog.university.id,
        "name_zh": "热重分析仪", "name_en": "Thermogravimetric analyser", "class_code": "0109",
        "technique_codes": ["TGA"], "original_value_fen": 45_000_000,
        "region_code": "410100",
        "service_items": [{"name_zh": "热重测试", "unit": "sample",
                           "price_internal_fen": 8_000, "price_nonprofit_fen": 12_000,
                           "price_enterprise_fen": 20_000}]}
    return body | overrides


class TestSearch:
    def test_lists_every_instrument_in_exchange_id_order(self, client: TestClient,
                                                         catalog: Catalog) -> None:
        page = client.get("/api/instruments").json()

        assert [item["exchange_id"] for item in page["items"]] == [
            "ZZ-0000101", "ZZ-0000102", "ZZ-0000201"]
        assert page["total"] == 3

    def test_combines_filters(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/api/instruments", params={
            "class_code": "01", "technique_code": "XRD", "q": "衍射",
            "is_open_external": "true", "price_max_fen": 30_000}).json()

        assert [item["exchange_id"] for item in page["items"]] == ["ZZ-0000101"]
        assert page["items"][0]["min_price_enterprise_fen"] == 30_000

    def test_pages(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/api/instruments", params={"page": 2, "page_size": 2}).json()

        assert [item["exchange_id"] for item in page["items"]] == ["ZZ-0000201"]
        assert (page["total"], page["page"], page["page_size"]) == (3, 2, 2)


class TestRead:
    def test_reads_an_instrument_with_its_service_items(self, client: TestClient,
                                                        catalog: Catalog) -> None:
        instrument = client.get("/api/instruments/ZZ-0000101").json()

        assert instrument["name_zh"] == "X射线衍射仪"
        assert instrument["technique_codes"] == ["XRD", "XRF"]
        assert [item["unit"] for item in instrument["service_items"]] == ["sample", "hour"]

    def test_reads_the_lifecycle_history(self, client: TestClient, catalog: Catalog) -> None:
        history = client.get("/api/instruments/ZZ-0000101/lifecycle").json()

        assert [(c["from_state"], c["to_state"], c["reason"]) for c in history] == [
            (None, "in_service", "registered")]


class TestRegister:
    def test_provider_registers_for_own_organisation(self, client: TestClient, catalog: Catalog,
                                                     provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments", json=new_instrument(catalog))

        assert response.status_code == 201
        assert response.json()["service_items"][0]["price_enterprise_fen"] == 20_000
        assert client.get("/api/instruments/ZZ-0000999").status_code == 200

    def test_needs_a_sign_in(self, client: TestClient, catalog: Catalog) -> None:
        response = client.post("/api/instruments", json=new_instrument(catalog))

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {"error": "unauthenticated", "record": "session",
                                   "field": None, "reason": "sign in first"}

    def test_refuses_another_organisation(self, client: TestClient, catalog: Catalog,
                                          provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments", json=new_instrument(
            catalog, organisation_id=catalog.institute.id))

        assert response.status_code == 403
        assert response.json() == {"error": "forbidden", "record": "instrument ZZ-0000999",
                                   "field": None, "reason": "not allowed to register_instrument"}

    def test_refuses_a_demander(self, client: TestClient, catalog: Catalog,
                                demander: Account) -> None:
        sign_in(client, demander)

        response = client.post("/api/instruments", json=new_instrument(
            catalog, organisation_id=catalog.institute.id))

        assert response.status_code == 403

    def test_duplicate_exchange_id_is_a_conflict(self, client: TestClient, catalog: Catalog,
                                                 provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments",
                               json=new_instrument(catalog, exchange_id="ZZ-0000101"))

        assert response.status_code == 409
        assert response.json() == {"error": "conflict", "record": "instrument ZZ-0000101",
                                   "field": "exchange_id", "reason": "exchange id already listed"}

    def test_unknown_class_is_invalid_input(self, client: TestClient, catalog: Catalog,
                                            provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments",
                               json=new_instrument(catalog, class_code="9999"))

        assert response.status_code == 422
        assert response.json()["field"] == "class_code"
        assert client.get("/api/instruments/ZZ-0000999").status_code == 404

    def test_malformed_body_is_reported_in_the_same_shape(self, client: TestClient,
                                                          catalog: Catalog,
                                                          provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments", json=new_instrument(
            catalog, exchange_id="bad id", original_value_fen=-1))

        body = response.json()
        assert response.status_code == 422
        assert (body["error"], body["record"], body["field"]) == (
            "invalid_input", "request body", "original_value_fen")
        assert body["reason"] == "Input should be greater than or equal to 0"
        assert len(body["problems"]) == 2
        assert body["problems"][1].startswith("exchange_id: String should match pattern")


class TestEdit:
    def test_provider_edits_own_instrument(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.patch("/api/instruments/ZZ-0000101",
                                json={"model": "D8 DISCOVER", "technique_codes": ["XRD"]})

        assert response.status_code == 200
        assert (response.json()["model"], response.json()["technique_codes"]) == (
            "D8 DISCOVER", ["XRD"])
        assert client.get("/api/instruments/ZZ-0000101").json()["model"] == "D8 DISCOVER"

    def test_provider_cannot_edit_another_organisations_instrument(self, client: TestClient,
                                                                   other_provider: Account) -> None:
        sign_in(client, other_provider)

        response = client.patch("/api/instruments/ZZ-0000101", json={"model": "X"})

        assert response.status_code == 403
        assert client.get("/api/instruments/ZZ-0000101").json()["model"] == "D8 ADVANCE"

    def test_unknown_instrument_is_not_found(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.patch("/api/instruments/ZZ-7777777", json={"model": "X"})

        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "record": "instrument ZZ-7777777",
                                   "field": "exchange_id", "reason": "no instrument ZZ-7777777"}


class TestLifecycle:
    def test_moves_and_records_the_reason(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments/ZZ-0000101/lifecycle",
                               json={"to_state": "under_maintenance", "reason": "换X光管"})

        assert response.status_code == 201
        assert response.json()["to_state"] == "under_maintenance"
        history = client.get("/api/instruments/ZZ-0000101/lifecycle").json()
        assert history[-1]["reason"] == "换X光管"

    def test_same_state_is_refused(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/api/instruments/ZZ-0000101/lifecycle",
                               json={"to_state": "in_service", "reason": "again"})

        assert response.status_code == 422
        assert response.json()["field"] == "lifecycle_state"


class TestReference:
    def test_regions_classes_and_techniques(self, client: TestClient, catalog: Catalog) -> None:
        regions = client.get("/api/regions").json()
        classes = client.get("/api/classes").json()
        techniques = client.get("/api/techniques").json()

        assert {"code": "410100", "name_zh": "郑州市"}.items() <= regions[1].items()
        assert {"code": "0103", "level": 2, "parent_code": "01",
                "name_zh": "X射线仪器"}.items() <= {c["code"]: c for c in classes}["0103"].items()
        assert {t["code"]: t["name_zh"] for t in techniques}["XRD"] == "粉末X射线衍射"

    def test_organisations(self, client: TestClient, catalog: Catalog) -> None:
        listed = client.get("/api/organisations", params={"region_code": "410000"}).json()
        one = client.get("/api/organisations/ZZU").json()

        assert [organisation["code"] for organisation in listed] == ["HNAS", "ZZU"]
        assert (one["name_zh"], one["org_type"], one["cma_number"]) == (
            "郑州大学", "university", "CMA-2019-0001")
        assert client.get("/api/organisations/NOPE").status_code == 404

    def test_stats(self, client: TestClient, catalog: Catalog) -> None:
        stats = client.get("/api/catalog/stats", params={"region_code": "410000"}).json()

        assert stats["instruments"] == 3
        assert stats["instruments_by_org_type"] == {"institute": 1, "university": 2}


class TestAuth:
    def test_sign_in_sets_an_httponly_session_cookie(self, client: TestClient,
                                                     provider: Account) -> None:
        response = client.post("/api/auth/signin", json={
            "email": "ADMIN@zzu.example.cn", "password": "correct horse battery"})

        assert response.status_code == 200
        assert response.json()["organisation_code"] == "ZZU"
        assert response.json()["roles"] == [{"role": "provider_admin", "region_code": None}]
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("scishare_session=")
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()

    def test_wrong_password_is_unauthenticated(self, client: TestClient,
                                               provider: Account) -> None:
        response = client.post("/api/auth/signin", json={
            "email": "admin@zzu.example.cn", "password": "wrong password"})

        assert response.status_code == 401
        assert response.json()["reason"] == "wrong e-mail or password"

    def test_api_token_works_as_bearer_and_is_shown_once(self, client: TestClient,
                                                         provider: Account) -> None:
        sign_in(client, provider)
        issued = client.post("/api/auth/tokens", json={"name": "LIMS", "days": 30}).json()
        client.cookies.clear()

        me = client.get("/api/auth/me",
                        headers={"Authorization": f"Bearer {issued['token']}"})

        assert me.status_code == 200
        assert me.json()["account"]["email"] == "admin@zzu.example.cn"
        assert issued["expires_at"].startswith("2026-12-24")

    def test_unknown_bearer_token_is_refused(self, client: TestClient) -> None:
        response = client.get("/api/auth/me", headers={"Authorization": "Bearer nope"})

        assert response.status_code == 401
        assert response.json()["record"] == "access token"

    def test_sign_out_ends_the_session(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)
        secret = client.cookies["scishare_session"]

        assert client.post("/api/auth/signout").status_code == 204
        client.cookies.set("scishare_session", secret)

        assert client.get("/api/auth/me").status_code == 401


class TestImport:
    HEADER = "仪器编号,仪器名称,分类代码,原值(元),所属单位,测试技术\n"

    def test_imports_a_csv_file(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)
        data = self.HEADER + "ZZ-0000901,热重分析仪,0109,350000,ZZU,TGA\n"

        response = client.post("/api/catalog/import",
                               files={"file": ("catalog.csv", data.encode(), "text/csv")})

        assert response.status_code == 201, response.text
        assert response.json() == {"instruments": 1, "service_items": 0,
                                   "organisation_codes": ["ZZU"]}
        assert client.get("/api/instruments/ZZ-0000901").json()["name_zh"] == "热重分析仪"

    def test_rejects_the_whole_file_with_one_line_per_problem(self, client: TestClient,
                                                              provider: Account) -> None:
        sign_in(client, provider)
        data = (self.HEADER + "ZZ-0000901,热重分析仪,0109,350000,ZZU,TGA\n"
                "ZZ-0000902,差示扫描量热仪,9999,350000,ZZU,DSC\n")

        response = client.post("/api/catalog/import",
                               files={"file": ("catalog.csv", data.encode(), "text/csv")})

        assert response.status_code == 422
        assert response.json()["problems"] == [
            "row 3: 分类代码: unknown national class code 9999"]
        assert client.get("/api/instruments/ZZ-0000901").status_code == 404

    def test_refuses_rows_of_another_organisation(self, client: TestClient,
                                                  provider: Account) -> None:
        sign_in(client, provider)
        data = self.HEADER + "ZZ-0000901,热重分析仪,0109,350000,HNAS,TGA\n"

        response = client.post("/api/catalog/import",
                               files={"file": ("catalog.csv", data.encode(), "text/csv")})

        assert response.status_code == 422
        assert response.json()["problems"] == ["row 2: 所属单位: not allowed to import for HNAS"]


class TestMatchApi:
    @pytest.mark.parametrize(("body", "field", "reason"), [
        ({"need": "  "}, "need", "empty"),
        ({"need": "测" * 10_000}, "need", "10000 characters"),
        ({"need": "锂电池正极材料的晶体结构", "region_code": "999999"}, "region_code",
         "unknown region"),
        ({"need": "锂电池正极材料的晶体结构", "budget_fen": -100}, "budget_fen", "negative"),
    ], ids=["empty", "too-long", "unknown-region", "negative-budget"])
    def test_bad_needs_get_a_clear_error_and_store_nothing(
            self, client: TestClient, session: Session, body: dict[str, Any], field: str,
            reason: str) -> None:
        response = client.post("/api/match", json=body)

        assert response.status_code == 422
        error = response.json()
        assert (error["record"], error["field"]) == ("need", field)
        assert reason in error["reason"]
        assert session.scalar(select(func.count()).select_from(NeedRecord)) == 0


class TestOpenAPI:
    def test_documents_the_api_only(self, client: TestClient) -> None:
        document = client.get("/openapi.json").json()

        assert document["info"]["title"] == "SciShare API"
        assert all(path.startswith("/api/") for path in document["paths"])
        assert {tag["name"] for tag in document["tags"]} == {
            "instruments", "organisations", "reference", "catalog", "auth"}
        assert "404" in document["paths"]["/api/instruments/{exchange_id}"]["get"]["responses"]

    def test_the_docs_page_needs_no_cdn(self, client: TestClient) -> None:
        page = client.get("/api/docs")

        assert page.status_code == 200
        scripts = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", page.text)
        assert scripts
        assert all(url.startswith("/api/docs-static/") for url in scripts)
        for url in scripts:
            asset = client.get(url)
            assert asset.status_code == 200
            assert len(asset.content) > 10_000


class TestPlatformAdmin:
    def test_may_register_for_any_organisation(self, client: TestClient, session: Any,
                                               catalog: Catalog) -> None:
        admin = an_account(session, organisation=catalog.university,
                           roles=(Role.PLATFORM_ADMIN,))
        sign_in(client, admin)

        response = client.post("/api/instruments", json=new_instrument(
            catalog, organisation_id=catalog.institute.id))

        assert response.status_code == 201
