"""The HTML pages: language, catalog browsing, sign-in and the provider forms."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from scishare.accounts.models import Account
from tests.catalog.factories import an_instrument
from tests.web.conftest import csrf_token, sign_in
from tests.web.seed import PASSWORD, Catalog

TEXT_FIELDS = ("name_zh", "name_en", "model", "manufacturer", "country_of_origin",
               "class_code", "specifications", "functions", "purchased_on", "region_code",
               "address", "latitude", "longitude", "contact_name", "contact_phone",
               "contact_email")


def edit_form(client: TestClient, exchange_id: str, **changes: str) -> dict[str, Any]:
    """What the edit form posts for an instrument as stored, with some fields changed."""
    stored = client.get(f"/api/instruments/{exchange_id}").json()
    data: dict[str, Any] = {name: "" if stored[name] is None else str(stored[name])
                            for name in TEXT_FIELDS}
    data |= {"technique_codes": ", ".join(stored["technique_codes"]),
             "original_value": f"{stored['original_value_fen'] / 100:.2f}",
             "item_rows": str(len(stored["service_items"]))}
    data |= {flag: "on" for flag in ("is_open_external", "has_cma", "has_cnas") if stored[flag]}
    for index, item in enumerate(stored["service_items"]):
        row = {"name_zh": item["name_zh"], "name_en": item["name_en"], "unit": item["unit"],
               "is_active": "on"} | {
            price: f"{item[price + '_fen'] / 100:.2f}"
            for price in ("price_internal", "price_nonprofit", "price_enterprise")}
        data |= {f"items-{index}-{key}": value for key, value in row.items()}
    return data | changes | {"csrf_token": csrf_token(client)}


def new_form(client: TestClient, catalog: Catalog, **changes: str) -> dict[str, str]:
    return {"exchange_id": "ZZ-0000999", "organisation_id": str(catalog.university.id),
            "name_zh": "热重分析仪", "name_en": "Thermogravimetric analyser",
            "class_code": "0109", "technique_codes": "tga", "original_value": "450,000",
            "region_code": "410100", "is_open_external": "on", "item_rows": "2",
            "items-0-name_zh": "热重测试", "items-0-unit": "sample",
            "items-0-price_internal": "80", "items-0-price_nonprofit": "120",
            "items-0-price_enterprise": "200.5", "items-0-is_active": "on",
            "csrf_token": csrf_token(client)} | changes


class TestLanguage:
    def test_chinese_by_default(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/").text

        assert '<html lang="zh-Hans">' in page
        assert "台仪器入网共享" in page
        assert "分析仪器" in page

    def test_lang_parameter_switches_and_is_remembered(self, client: TestClient,
                                                       catalog: Catalog) -> None:
        first = client.get("/?lang=en")
        later = client.get("/instruments")

        assert "lang=en" in first.headers["set-cookie"]
        assert '<html lang="en">' in later.text
        assert "instruments found" in later.text
        assert "Analytical instruments" in later.text

        back = client.get("/instruments?lang=zh")
        assert "共找到 3 台仪器" in back.text

    def test_every_page_links_to_both_languages(self, client: TestClient,
                                                catalog: Catalog) -> None:
        for path in ("/", "/instruments?q=X", "/instruments/ZZ-0000101", "/organisations",
                     "/organisations/ZZU", "/signin", "/no-such-page"):
            page = client.get(path).text
            assert '<a href="' in page, path
            assert ">中文</a>" in page, path
            assert ">English</a>" in page, path

    def test_switch_link_keeps_the_filters(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/instruments?q=X&technique_code=XRD").text

        assert 'href="/instruments?q=X&amp;technique_code=XRD&amp;lang=en"' in page


class TestBrowse:
    def test_filters_by_class_technique_and_text(self, client: TestClient,
                                                 catalog: Catalog) -> None:
        page = client.get("/instruments", params={
            "class_code": "0103", "technique_code": "XRD", "q": "D8"}).text

        assert "共找到 1 台仪器" in page
        assert "X射线衍射仪" in page
        assert "场发射扫描电子显微镜" not in page

    def test_price_range_is_in_yuan(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/instruments", params={"price_min": "450", "price_max": "550"}).text

        assert "共找到 1 台仪器" in page
        assert "场发射扫描电子显微镜" in page
        assert "¥500.00" in page

    def test_open_to_external_users_only(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/instruments", params={"open_external": "1"}).text

        assert "共找到 2 台仪器" in page
        assert "电感耦合等离子体质谱仪" not in page

    def test_bad_price_is_shown_by_the_filter(self, client: TestClient,
                                              catalog: Catalog) -> None:
        response = client.get("/instruments", params={"price_min": "cheap"})

        assert response.status_code == 200
        assert "不是有效的金额（元）。" in response.text
        assert "共找到 0 台仪器" in response.text

    def test_pages_through_results(self, client: TestClient, session: Session,
                                   catalog: Catalog) -> None:
        for _ in range(20):
            an_instrument(session, organisation=catalog.institute)

        first = client.get("/instruments").text
        second = client.get("/instruments?page=2").text

        assert "共找到 23 台仪器" in first
        assert "第 1 / 2 页" in first
        assert 'href="/instruments?page=2"' in first
        assert "第 2 / 2 页" in second
        assert second.count('<tr>') == 4


class TestInstrumentPage:
    def test_in_chinese(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/instruments/ZZ-0000101").text

        for text in ("X射线衍射仪", "X-ray diffractometer", "0103 X射线仪器", "粉末X射线衍射",
                     "X射线荧光光谱", "物相分析", "按样品", "按机时", "¥100.00", "¥150.00",
                     "¥300.00", "¥600.00", "¥1,500,000.00", "郑州大学", "郑州市",
                     "纬度 34.81650，经度 113.53550", "在用", "登记入库", "对外开放", "CMA"):
            assert text in page, text
        assert 'href="/organisations/ZZU"' in page

    def test_in_english(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/instruments/ZZ-0000101?lang=en").text

        for text in ("X-ray diffractometer", "X射线衍射仪", "X-ray instruments",
                     "X-ray powder diffraction", "Phase analysis", "per sample", "per hour",
                     "Zhengzhou University", "Zhengzhou", "In service", "Registered",
                     "Enterprise price", "latitude 34.81650, longitude 113.53550"):
            assert text in page, text

    def test_unknown_instrument_is_a_friendly_404(self, client: TestClient,
                                                  catalog: Catalog) -> None:
        response = client.get("/instruments/ZZ-7777777")

        assert response.status_code == 404
        assert "未找到" in response.text
        assert "返回首页" in response.text

    def test_edit_link_only_for_those_who_may_edit(self, client: TestClient,
                                                   provider: Account,
                                                   other_provider: Account) -> None:
        edit = 'href="/provider/instruments/ZZ-0000101/edit"'
        assert edit not in client.get("/instruments/ZZ-0000101").text

        sign_in(client, other_provider)
        assert edit not in client.get("/instruments/ZZ-0000101").text

        sign_in(client, provider)
        assert edit in client.get("/instruments/ZZ-0000101").text


class TestOrganisationPage:
    def test_profile_and_instruments(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/organisations/ZZU").text

        for text in ("郑州大学", "Zhengzhou University", "高校", "CMA-2019-0001", "X射线衍射仪",
                     "场发射扫描电子显微镜"):
            assert text in page, text
        assert "电感耦合等离子体质谱仪" not in page

    def test_list(self, client: TestClient, catalog: Catalog) -> None:
        page = client.get("/organisations?lang=en").text

        assert "Henan Academy of Sciences" in page
        assert "Research institute" in page


class TestSignIn:
    def test_signs_in_with_the_form_and_goes_back(self, client: TestClient,
                                                  provider: Account) -> None:
        response = client.post("/signin", data={
            "email": provider.email, "password": PASSWORD, "next": "/organisations",
            "csrf_token": csrf_token(client)}, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/organisations"
        cookie = response.headers["set-cookie"]
        assert "scishare_session=" in cookie
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert provider.display_name in client.get("/").text

    def test_wrong_password_shows_the_form_again(self, client: TestClient,
                                                 provider: Account) -> None:
        response = client.post("/signin", data={
            "email": provider.email, "password": "nope", "csrf_token": csrf_token(client)})

        assert response.status_code == 401
        assert "电子邮箱或密码错误。" in response.text
        assert f'value="{provider.email}"' in response.text

    def test_refuses_a_post_without_the_form_token(self, client: TestClient,
                                                   provider: Account) -> None:
        csrf_token(client)

        response = client.post("/signin", data={
            "email": provider.email, "password": PASSWORD, "csrf_token": "forged"})

        assert response.status_code == 403
        assert "scishare_session" not in client.cookies

    def test_next_never_leaves_the_site(self, client: TestClient, provider: Account) -> None:
        response = client.post("/signin", data={
            "email": provider.email, "password": PASSWORD, "next": "//evil.example",
            "csrf_token": csrf_token(client)}, follow_redirects=False)

        assert response.headers["location"] == "/"

    def test_signs_out(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/signout", data={"csrf_token": csrf_token(client)},
                               follow_redirects=False)

        assert response.status_code == 303
        assert "scishare_session" not in client.cookies
        assert provider.display_name not in client.get("/").text


class TestProviderAccess:
    @pytest.mark.parametrize("path", ["/provider/instruments/new", "/provider/import",
                                      "/provider/instruments/ZZ-0000101/edit"])
    def test_asks_to_sign_in_first(self, client: TestClient, catalog: Catalog,
                                   path: str) -> None:
        response = client.get(path, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == f"/signin?next={path.replace('/', '%2F')}"

    @pytest.mark.parametrize("path", ["/provider/instruments/new", "/provider/import",
                                      "/provider/instruments/ZZ-0000101/edit"])
    def test_demander_is_refused(self, client: TestClient, demander: Account,
                                 path: str) -> None:
        sign_in(client, demander)

        response = client.get(path)

        assert response.status_code == 403
        assert "无权操作" in response.text

    def test_provider_cannot_open_another_organisations_instrument(
            self, client: TestClient, other_provider: Account) -> None:
        sign_in(client, other_provider)

        assert client.get("/provider/instruments/ZZ-0000101/edit").status_code == 403
        assert client.get("/provider/instruments/ZZ-0000201/edit").status_code == 200

    def test_provider_cannot_post_to_another_organisations_instrument(
            self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/ZZ-0000201/edit",
                               data=edit_form(client, "ZZ-0000201", model="X"))

        assert response.status_code == 403
        assert client.get("/api/instruments/ZZ-0000201").json()["model"] == "iCAP RQ"


class TestEditInstrument:
    def test_form_shows_the_stored_values_in_yuan(self, client: TestClient,
                                                  provider: Account) -> None:
        sign_in(client, provider)

        page = client.get("/provider/instruments/ZZ-0000101/edit").text

        assert 'value="D8 ADVANCE"' in page
        assert 'value="1500000.00"' in page
        assert 'value="XRD, XRF"' in page
        assert 'name="items-1-price_enterprise" value="600.00"' in page

    def test_saves_changes(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)
        data = edit_form(client, "ZZ-0000101", model="D8 DISCOVER", technique_codes="xrd",
                         **{"items-0-price_enterprise": "350.5"})

        response = client.post("/provider/instruments/ZZ-0000101/edit", data=data,
                               follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/instruments/ZZ-0000101?saved=1"
        stored = client.get("/api/instruments/ZZ-0000101").json()
        assert (stored["model"], stored["technique_codes"]) == ("D8 DISCOVER", ["XRD"])
        assert stored["service_items"][0]["price_enterprise_fen"] == 35_050
        assert "已保存。" in client.get(response.headers["location"]).text

    def test_blank_item_row_drops_the_item(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)
        data = edit_form(client, "ZZ-0000101", **{
            "items-1-name_zh": "", "items-1-name_en": "", "items-1-price_internal": "",
            "items-1-price_nonprofit": "", "items-1-price_enterprise": ""})

        client.post("/provider/instruments/ZZ-0000101/edit", data=data)

        items = client.get("/api/instruments/ZZ-0000101").json()["service_items"]
        assert [item["name_zh"] for item in items] == ["物相分析"]

    def test_shows_problems_next_to_their_fields_and_stores_nothing(
            self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)
        data = edit_form(client, "ZZ-0000101", name_zh="", model="CHANGED",
                         technique_codes="XRD, NOPE", **{"items-0-price_internal": "abc"})

        response = client.post("/provider/instruments/ZZ-0000101/edit", data=data)

        assert response.status_code == 422
        assert '<p class="field-error" id="name_zh-error">必填。</p>' in response.text
        assert ('<p class="field-error" id="items-0-price_internal-error">'
                '不是有效的金额（元）。</p>') in response.text
        assert 'value="CHANGED"' in response.text
        assert client.get("/api/instruments/ZZ-0000101").json()["model"] == "D8 ADVANCE"

    def test_domain_problem_is_shown_at_its_field(self, client: TestClient,
                                                  provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/ZZ-0000101/edit", data=edit_form(
            client, "ZZ-0000101", technique_codes="XRD, NOPE", model="CHANGED"))

        assert response.status_code == 422
        assert ('<p class="field-error" id="technique_codes-error">'
                'unknown technique code NOPE</p>') in response.text
        assert client.get("/api/instruments/ZZ-0000101").json()["model"] == "D8 ADVANCE"

    def test_refuses_a_post_without_the_form_token(self, client: TestClient,
                                                   provider: Account) -> None:
        sign_in(client, provider)
        data = edit_form(client, "ZZ-0000101", model="CHANGED") | {"csrf_token": ""}

        response = client.post("/provider/instruments/ZZ-0000101/edit", data=data)

        assert response.status_code == 403
        assert client.get("/api/instruments/ZZ-0000101").json()["model"] == "D8 ADVANCE"


class TestAddInstrument:
    def test_adds_an_instrument(self, client: TestClient, catalog: Catalog,
                                provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/new", data=new_form(client, catalog),
                               follow_redirects=False)

        assert response.status_code == 303
        stored = client.get("/api/instruments/ZZ-0000999").json()
        assert stored["original_value_fen"] == 45_000_000
        assert stored["technique_codes"] == ["TGA"]
        assert stored["service_items"][0]["price_enterprise_fen"] == 20_050

    def test_offers_only_the_providers_own_organisation(self, client: TestClient,
                                                        catalog: Catalog,
                                                        provider: Account) -> None:
        sign_in(client, provider)

        page = client.get("/provider/instruments/new").text

        assert f'<option value="{catalog.university.id}"' in page
        assert f'<option value="{catalog.institute.id}"' not in page

    def test_refuses_another_organisation(self, client: TestClient, catalog: Catalog,
                                          provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/new", data=new_form(
            client, catalog, organisation_id=str(catalog.institute.id)))

        assert response.status_code == 403
        assert client.get("/api/instruments/ZZ-0000999").status_code == 404

    def test_duplicate_exchange_id_is_shown_at_its_field(self, client: TestClient,
                                                         catalog: Catalog,
                                                         provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/new", data=new_form(
            client, catalog, exchange_id="ZZ-0000101"))

        assert response.status_code == 409
        assert ('<p class="field-error" id="exchange_id-error">exchange id already listed</p>'
                in response.text)

    def test_english_messages(self, client: TestClient, catalog: Catalog,
                              provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/new?lang=en", data=new_form(
            client, catalog, exchange_id="nope", original_value=""))

        assert response.status_code == 422
        assert '<p class="field-error" id="exchange_id-error">Not in the expected format.</p>' \
            in response.text
        assert '<p class="field-error" id="original_value-error">Required.</p>' in response.text


class TestLifecycleForm:
    def test_moves_with_a_reason(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/ZZ-0000101/lifecycle", data={
            "to_state": "under_maintenance", "reason": "更换X光管",
            "csrf_token": csrf_token(client)})

        assert response.status_code == 200  # followed to the instrument page
        assert "维修中" in response.text
        assert "更换X光管" in response.text

    def test_reason_is_required(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/instruments/ZZ-0000101/lifecycle", data={
            "to_state": "idle", "reason": " ", "csrf_token": csrf_token(client)})

        assert response.status_code == 422
        assert 'id="reason-error">say why the state changes</p>' in response.text
        # The language links of the re-shown form lead back to the edit page.
        assert 'href="/provider/instruments/ZZ-0000101/edit?lang=en"' in response.text


class TestImportPage:
    HEADER = "仪器编号,仪器名称,分类代码,原值(元),所属单位\n"

    def test_lists_every_problem_and_stores_nothing(self, client: TestClient,
                                                    provider: Account) -> None:
        sign_in(client, provider)
        data = self.HEADER + "ZZ-0000901,热重分析仪,9999,abc,ZZU\n"

        response = client.post("/provider/import", data={"csrf_token": csrf_token(client)},
                               files={"file": ("catalog.csv", data.encode(), "text/csv")})

        assert response.status_code == 422
        assert "文件未导入：发现 2 处问题。" in response.text
        assert "row 2: 原值(元): not an amount: &#39;abc&#39;" in response.text
        assert "row 2: 分类代码: unknown national class code 9999" in response.text
        assert client.get("/api/instruments/ZZ-0000901").status_code == 404

    def test_imports_a_good_file(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)
        data = self.HEADER + "ZZ-0000901,热重分析仪,0109,350000,ZZU\n"

        response = client.post("/provider/import", data={"csrf_token": csrf_token(client)},
                               files={"file": ("catalog.csv", data.encode(), "text/csv")})

        assert response.status_code == 200
        assert "已导入 1 台仪器。" in response.text
        assert client.get("/api/instruments/ZZ-0000901").status_code == 200

    def test_asks_for_a_file(self, client: TestClient, provider: Account) -> None:
        sign_in(client, provider)

        response = client.post("/provider/import", data={"csrf_token": csrf_token(client)},
                               files={"file": ("", b"", "application/octet-stream")})

        assert response.status_code == 422
        assert "请选择 .csv 或 .xlsx 文件。" in response.text
