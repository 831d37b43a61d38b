from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation, Role
from scishare.accounts.service import actor_for, get_account
from scishare.catalog import importing
from scishare.catalog.errors import CatalogImportRejected, ImportProblem
from scishare.catalog.importing import import_catalog
from scishare.catalog.models import LifecycleState, ServiceUnit
from scishare.catalog.service import get_instrument, lifecycle_history, read_instrument
from scishare.core.errors import InvalidInput
from tests.accounts.factories import an_account, an_organisation
from tests.catalog.catalog_files import (
    HEADERS,
    a_row,
    csv_bytes,
    import_bytes,
    instrument_count,
    rejection_lines,
    xlsx_bytes,
)
from tests.catalog.factories import an_instrument


@pytest.fixture
def zzu(session: Session) -> Organisation:
    return an_organisation(session, code="ZZU", name_zh="郑州大学")


def lines_for(session: Session, now: datetime, *rows: dict[str, str]) -> list[str]:
    return rejection_lines(session, csv_bytes(rows, headers=HEADERS), now=now)


class TestImportCatalog:
    def test_stores_every_field(self, session: Session, zzu: Organisation,
                                now: datetime) -> None:
        row = a_row(zzu, 仪器编号="ZZ-0000001")

        report = import_bytes(session, csv_bytes([row], headers=HEADERS), now=now)

        assert (report.instruments, report.service_items) == (1, 2)
        assert report.organisation_codes == ("ZZU",)
        stored = read_instrument(get_instrument(session, "ZZ-0000001"))
        assert stored.model_dump(exclude={"service_items"}) == {
            "exchange_id": "ZZ-0000001", "organisation_id": zzu.id, "name_zh": "X射线衍射仪",
            "name_en": "X-ray diffractometer", "model": "D8 ADVANCE", "manufacturer": "Bruker",
            "country_of_origin": "德国", "class_code": "0103",
            "technique_codes": ["XRD", "HRXRD_XRR"], "specifications": "测角仪半径 ≥ 200 mm",
            "functions": "物相分析", "original_value_fen": 150_000_050,
            "purchased_on": date(2019, 6, 30), "region_code": zzu.region_code,
            "address": "科学大道100号", "latitude": 34.8157, "longitude": 113.5361,
            "lifecycle_state": LifecycleState.IN_SERVICE, "is_open_external": True,
            "has_cma": True, "has_cnas": False, "contact_name": "张老师",
            "contact_phone": "0371-67781234", "contact_email": "xrd@example.cn"}
        items = [item.model_dump(exclude={"id"}) for item in stored.service_items]
        assert items == [
            {"name_zh": "粉末衍射", "name_en": "Powder XRD", "unit": ServiceUnit.SAMPLE,
             "price_internal_fen": 10_000, "price_nonprofit_fen": 15_000,
             "price_enterprise_fen": 30_000, "is_active": True},
            {"name_zh": "机时", "name_en": "", "unit": ServiceUnit.HOUR,
             "price_internal_fen": 20_000, "price_nonprofit_fen": 30_000,
             "price_enterprise_fen": 50_000, "is_active": True}]
        history = lifecycle_history(session, get_instrument(session, "ZZ-0000001"))
        assert [(change.to_state, change.reason) for change in history] == [
            ("in_service", "imported")]

    def test_reads_english_headers_in_any_order_and_optional_columns_left_out(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        source = csv_bytes([{"Organisation": "郑州大学", "original_value": "¥1,234.5",
                             "class_code": "0101", "Name_ZH": "扫描电镜",
                             "exchange_id": "ZZ-0000002", "state": "Under maintenance",
                             "open_external": "no", "techniques": "SEM_EDS；EBSD"}])

        import_bytes(session, source, now=now)

        stored = read_instrument(get_instrument(session, "ZZ-0000002"))
        assert (stored.organisation_id, stored.original_value_fen, stored.lifecycle_state,
                stored.is_open_external, stored.technique_codes, stored.service_items) == (
            zzu.id, 123_450, LifecycleState.UNDER_MAINTENANCE, False, ["SEM_EDS", "EBSD"], [])

    def test_accepts_required_markers_full_width_brackets_and_a_byte_order_mark(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        source = csv_bytes([{"*仪器编号": "ZZ-0000003", "*仪器名称": "电镜", "*分类代码": "0101",
                             "*原值（元）": "10", "*所属单位": "ZZU"}], encoding="utf-8-sig")

        assert import_bytes(session, source, now=now).instruments == 1

    def test_region_defaults_to_the_organisation_and_reads_names(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        rows = [a_row(zzu, 仪器编号="ZZ-0000004"),
                a_row(zzu, 仪器编号="ZZ-0000005", 所在地区="河南省")]

        import_bytes(session, csv_bytes(rows, headers=HEADERS), now=now)

        assert get_instrument(session, "ZZ-0000004").region_code == "410100"
        assert get_instrument(session, "ZZ-0000005").region_code == "410000"

    def test_reads_the_date_spellings_people_type(self, session: Session, zzu: Organisation,
                                                  now: datetime) -> None:
        spellings = ["2019/6/30", "2019.06.30", "2019年6月30日", "20190630"]
        rows = [a_row(zzu, 仪器编号=f"ZZ-000001{i}", 购置日期=text)
                for i, text in enumerate(spellings)]

        import_bytes(session, csv_bytes(rows, headers=HEADERS), now=now)

        assert {get_instrument(session, f"ZZ-000001{i}").purchased_on
                for i in range(len(spellings))} == {date(2019, 6, 30)}

    def test_unescapes_separators_inside_service_item_names(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        row = a_row(zzu, 仪器编号="ZZ-0000020",
                    服务项目=r"A\|B\;C\\D|sample|1|2|3|E\；F|否; G|hour|0|0|0.5")

        import_bytes(session, csv_bytes([row], headers=HEADERS), now=now)

        items = read_instrument(get_instrument(session, "ZZ-0000020")).service_items
        assert [(item.name_zh, item.name_en, item.is_active, item.price_enterprise_fen)
                for item in items] == [("A|B;C\\D", "E；F", False, 300), ("G", "", True, 50)]

    def test_reads_typed_xlsx_cells(self, session: Session, zzu: Organisation,
                                    now: datetime) -> None:
        header = ["仪器编号", "仪器名称", "分类代码", "原值(元)", "购置日期", "所属单位",
                  "对外开放", "纬度", "联系电话"]
        source = xlsx_bytes([header, ["ZZ-0000030", "电镜", 101, 1234.5,
                                      datetime(2020, 3, 5), "ZZU", False, 34, 13800138000]])

        import_bytes(session, source, filename="catalog.xlsx", now=now)

        stored = get_instrument(session, "ZZ-0000030")
        assert (stored.class_code, stored.original_value_fen, stored.purchased_on,
                stored.is_open_external, stored.latitude, stored.contact_phone) == (
            "0101", 123_450, date(2020, 3, 5), False, 34.0, "13800138000")

    def test_skips_blank_rows_but_counts_them(self, session: Session, zzu: Organisation,
                                              now: datetime) -> None:
        blank = dict.fromkeys(HEADERS, " ")
        rows = [a_row(zzu), blank, a_row(zzu, 仪器名称="")]

        assert lines_for(session, now, *rows) == ["row 4: 仪器名称: required"]

    def test_stores_in_batches_and_reports_progress(
            self, session: Session, zzu: Organisation, now: datetime,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(importing, "BATCH_SIZE", 2)
        calls: list[tuple[int, int]] = []
        rows = [a_row(zzu) for _ in range(5)]

        import_catalog(session, csv_bytes(rows, headers=HEADERS), filename="c.csv",
                       actor=actor_for(get_account(session, an_account(
                           session, organisation=zzu, roles=(Role.PROVIDER_ADMIN,)).id)),
                       now=now, progress=lambda done, total: calls.append((done, total)))

        assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
        assert instrument_count(session) == 5


class TestRejectsTheWholeFile:
    """Each kind of bad input: the exact problem lines, and nothing stored."""

    def test_unknown_class_code(self, session: Session, zzu: Organisation,
                                now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 分类代码="9999")) == [
            "row 2: 分类代码: unknown national class code 9999"]

    def test_malformed_class_code(self, session: Session, zzu: Organisation,
                                  now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 分类代码="01-03")) == [
            "row 2: 分类代码: not a 4-digit national class code (e.g. 0103)"]

    def test_unknown_technique(self, session: Session, zzu: Organisation,
                               now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 测试技术="XRD;NOPE")) == [
            "row 2: 测试技术: unknown technique code NOPE"]

    def test_technique_listed_twice(self, session: Session, zzu: Organisation,
                                    now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 测试技术="XRD;XRD")) == [
            "row 2: 测试技术: a technique is listed twice"]

    def test_unknown_region(self, session: Session, zzu: Organisation, now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 所在地区="999999"),
                         a_row(zzu, 所在地区="开封市")) == [
            "row 2: 所在地区: unknown region code 999999",
            "row 3: 所在地区: not a 6-digit region code or a known region name"]

    @pytest.mark.parametrize(("cell", "line"), [
        ("2019-02-30", "row 2: 购置日期: not a date (YYYY-MM-DD): '2019-02-30'"),
        ("30/06/2019", "row 2: 购置日期: not a date (YYYY-MM-DD): '30/06/2019'"),
        ("去年", "row 2: 购置日期: not a date (YYYY-MM-DD): '去年'"),
        ("2031-01-01", "row 2: 购置日期: in the future: 2031-01-01"),
    ])
    def test_bad_date(self, session: Session, zzu: Organisation, now: datetime, cell: str,
                      line: str) -> None:
        assert lines_for(session, now, a_row(zzu, 购置日期=cell)) == [line]

    def test_negative_value(self, session: Session, zzu: Organisation, now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, **{"原值(元)": "-5"})) == [
            "row 2: 原值(元): must not be negative: -5"]

    @pytest.mark.parametrize(("cell", "line"), [
        ("abc", "row 2: 原值(元): not an amount: 'abc'"),
        ("12万", "row 2: 原值(元): not an amount: '12万'"),
        ("NaN", "row 2: 原值(元): not an amount: 'NaN'"),
        ("1.234", "row 2: 原值(元): more than 2 decimal places: 1.234"),
    ])
    def test_non_numeric_or_too_precise_value(self, session: Session, zzu: Organisation,
                                              now: datetime, cell: str, line: str) -> None:
        assert lines_for(session, now, a_row(zzu, **{"原值(元)": cell})) == [line]

    def test_negative_price(self, session: Session, zzu: Organisation, now: datetime) -> None:
        row = a_row(zzu, 服务项目="粉末衍射|样|100|150|-1")

        assert lines_for(session, now, row) == [
            "row 2: 服务项目: item 1: 企业价: must not be negative: -1"]

    def test_non_numeric_latitude_and_out_of_range_longitude(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 纬度="北纬34度", 经度="200")) == [
            "row 2: 纬度: not a number: '北纬34度'", "row 2: 经度: must be at most 180"]

    def test_duplicate_exchange_id_within_the_file(self, session: Session, zzu: Organisation,
                                                   now: datetime) -> None:
        rows = [a_row(zzu, 仪器编号="ZZ-0000001"), a_row(zzu),
                a_row(zzu, 仪器编号="ZZ-0000001")]

        assert lines_for(session, now, *rows) == [
            "row 4: 仪器编号: ZZ-0000001 appears again (first on row 2)"]

    def test_exchange_id_already_listed(self, session: Session, zzu: Organisation,
                                        now: datetime) -> None:
        an_instrument(session, organisation=zzu, exchange_id="ZZ-0000009")

        assert lines_for(session, now, a_row(zzu), a_row(zzu, 仪器编号="ZZ-0000009")) == [
            "row 3: 仪器编号: ZZ-0000009 is already listed"]

    def test_malformed_exchange_id(self, session: Session, zzu: Organisation,
                                   now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 仪器编号="zz-1")) == [
            "row 2: 仪器编号: not an exchange id (2–4 capital letters, '-', 4–10 digits, "
            "e.g. ZZ-0001234)"]

    def test_missing_required_fields(self, session: Session, zzu: Organisation,
                                     now: datetime) -> None:
        row = a_row(zzu, 仪器编号="", 仪器名称=" ", 分类代码="", **{"原值(元)": ""}, 所属单位="")

        assert lines_for(session, now, row) == [
            "row 2: 仪器编号: required", "row 2: 仪器名称: required", "row 2: 分类代码: required",
            "row 2: 原值(元): required", "row 2: 所属单位: required"]

    def test_unknown_organisation(self, session: Session, zzu: Organisation,
                                  now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 所属单位="某某大学")) == [
            "row 2: 所属单位: unknown organisation '某某大学' (give its code or Chinese name)"]

    @pytest.mark.parametrize(("header", "cell", "line"), [
        ("对外开放", "maybe", "row 2: 对外开放: not yes or no: 'maybe' (use 是/否)"),
        ("CMA", "已认证", "row 2: CMA: not yes or no: '已认证' (use 是/否)"),
        ("运行状态", "运行中",
         "row 2: 运行状态: unknown state '运行中' (use 在用/维修中/闲置/待流转/已报废)"),
    ])
    def test_bad_boolean_or_state(self, session: Session, zzu: Organisation, now: datetime,
                                  header: str, cell: str, line: str) -> None:
        assert lines_for(session, now, a_row(zzu, **{header: cell})) == [line]

    def test_bad_unit(self, session: Session, zzu: Organisation, now: datetime) -> None:
        assert lines_for(session, now, a_row(zzu, 服务项目="测试|天|1|2|3")) == [
            "row 2: 服务项目: item 1: unknown unit '天' (use 小时/hour or 样/sample)"]

    def test_text_too_long(self, session: Session, zzu: Organisation, now: datetime) -> None:
        row = a_row(zzu, 仪器名称="仪" * 129, 主要功能="x" * 301,
                    服务项目=f"{'项' * 129}|样|1|2|3")

        assert lines_for(session, now, row) == [
            "row 2: 仪器名称: too long: 129 characters, at most 128",
            "row 2: 主要功能: too long: 301 characters, at most 300",
            "row 2: 服务项目: item 1: name too long: 129 characters, at most 128"]

    @pytest.mark.parametrize(("cell", "lines"), [
        ("粉末衍射|样|100", ["row 2: 服务项目: item 1: 3 parts, expected "
                             "名称|单位|校内价|非营利价|企业价[|英文名称[|启用]]"]),
        ("a|样|1|2|3; |样|1||x", ["row 2: 服务项目: item 2: name required",
                                  "row 2: 服务项目: item 2: 非营利价: required",
                                  "row 2: 服务项目: item 2: 企业价: not an amount: 'x'"]),
        ("a|样|1|2|3|A|也许", ["row 2: 服务项目: item 1: 启用: not yes or no: '也许' (use 是/否)"]),
    ])
    def test_malformed_service_item(self, session: Session, zzu: Organisation, now: datetime,
                                    cell: str, lines: list[str]) -> None:
        assert lines_for(session, now, a_row(zzu, 服务项目=cell)) == lines

    def test_too_many_techniques(self, session: Session, zzu: Organisation,
                                 now: datetime) -> None:
        codes = ";".join(["XRD", "SCXRD", "HRXRD_XRR", "XRF", "XPS", "AES", "TOF_SIMS",
                          "D_SIMS", "SEM_EDS", "EBSD", "TEM", "AC_STEM", "FIB_SEM"])

        assert lines_for(session, now, a_row(zzu, 测试技术=codes)) == [
            "row 2: 测试技术: too many: 13, at most 12"]

    def test_not_utf8(self, session: Session, zzu: Organisation, now: datetime) -> None:
        source = csv_bytes([a_row(zzu)], headers=HEADERS, encoding="gbk")

        assert rejection_lines(session, source, now=now) == [
            "row 0: file: not UTF-8 (byte 0xd2 at offset 0); save it as \"CSV UTF-8\" "
            "(Excel) or with UTF-8 encoding (WPS)"]

    @pytest.mark.parametrize("source", [b"", b"\xef\xbb\xbf", b"\r\n , ,\r\n"])
    def test_empty_file(self, session: Session, now: datetime, source: bytes) -> None:
        assert rejection_lines(session, source, now=now) == ["row 0: file: empty file"]

    def test_too_large_a_file(self, session: Session, zzu: Organisation, now: datetime,
                              monkeypatch: pytest.MonkeyPatch) -> None:
        source = csv_bytes([a_row(zzu)], headers=HEADERS)
        monkeypatch.setattr(importing, "MAX_FILE_BYTES", len(source) - 1)

        assert rejection_lines(session, io.BytesIO(source), now=now) == [
            "row 0: file: larger than 0 MB: split the catalog into several files"]

    def test_header_without_rows(self, session: Session, now: datetime) -> None:
        source = ",".join(HEADERS).encode()

        assert rejection_lines(session, source, now=now) == [
            "row 0: file: no instrument rows below the header"]

    @pytest.mark.parametrize(("filename", "line"), [
        ("catalog.xls", "row 0: file: unsupported file type .xls: use .csv or .xlsx"),
        ("catalog", "row 0: file: unsupported file type (none): use .csv or .xlsx"),
    ])
    def test_wrong_extension(self, session: Session, zzu: Organisation, now: datetime,
                             filename: str, line: str) -> None:
        source = csv_bytes([a_row(zzu)], headers=HEADERS)

        assert rejection_lines(session, source, filename=filename, now=now) == [line]

    def test_unreadable_workbook(self, session: Session, zzu: Organisation,
                                 now: datetime) -> None:
        source = csv_bytes([a_row(zzu)], headers=HEADERS)

        assert rejection_lines(session, source, filename="catalog.xlsx", now=now) == [
            "row 0: file: not a readable .xlsx workbook"]

    def test_actor_not_allowed_for_the_rows_organisation(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        other = an_organisation(session, code="HNAS", name_zh="河南省科学院")
        admin = an_account(session, organisation=zzu, roles=(Role.PROVIDER_ADMIN,))
        actor = actor_for(get_account(session, admin.id))
        source = csv_bytes([a_row(zzu), a_row(other), a_row(other)], headers=HEADERS)
        before = instrument_count(session)

        with pytest.raises(CatalogImportRejected) as rejected:
            import_catalog(session, source, filename="c.csv", actor=actor, now=now)

        assert [str(problem) for problem in rejected.value.problems] == [
            "row 3: 所属单位: not allowed to import for HNAS",
            "row 4: 所属单位: not allowed to import for HNAS"]
        assert instrument_count(session) == before

    def test_demander_may_import_nothing(self, session: Session, zzu: Organisation,
                                         now: datetime) -> None:
        actor = actor_for(get_account(session, an_account(session, organisation=zzu).id))
        before = instrument_count(session)

        with pytest.raises(CatalogImportRejected) as rejected:
            import_catalog(session, csv_bytes([a_row(zzu)], headers=HEADERS),
                           filename="c.csv", actor=actor, now=now)

        assert [str(p) for p in rejected.value.problems] == [
            "row 2: 所属单位: not allowed to import for ZZU"]
        assert instrument_count(session) == before

    def test_header_problems_are_reported_alone(self, session: Session, zzu: Organisation,
                                                now: datetime) -> None:
        source = csv_bytes([{"仪器编号": "bad", "仪器名称": "", "name": "x", "仪器型号": "y"}])

        assert rejection_lines(session, source, now=now) == [
            "row 1: name: same column as 仪器名称", "row 1: 仪器型号: unknown column",
            "row 1: 分类代码: required column missing", "row 1: 原值(元): required column missing",
            "row 1: 所属单位: required column missing"]

    def test_value_in_a_column_without_a_header(self, session: Session, zzu: Organisation,
                                                now: datetime) -> None:
        source = csv_bytes([a_row(zzu)], headers=HEADERS) + b",,,,,,,,,,,,,,,,,,,,,,,,,,stray\r\n"

        assert rejection_lines(session, source, now=now) == [
            "row 3: 仪器编号: required", "row 3: 仪器名称: required", "row 3: 分类代码: required",
            "row 3: 原值(元): required", "row 3: 所属单位: required",
            "row 3: column 27: value in a column without a header"]

    def test_lists_every_problem_by_row_then_column_and_stores_no_good_row(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        rows = [a_row(zzu), a_row(zzu, 分类代码="9999", 对外开放="?"), a_row(zzu),
                a_row(zzu, 测试技术="NOPE", **{"原值(元)": "-1"})]

        assert lines_for(session, now, *rows) == [
            "row 3: 分类代码: unknown national class code 9999",
            "row 3: 对外开放: not yes or no: '?' (use 是/否)",
            "row 5: 测试技术: unknown technique code NOPE",
            "row 5: 原值(元): must not be negative: -1"]

    def test_reports_xlsx_rows_the_same_way(self, session: Session, zzu: Organisation,
                                            now: datetime) -> None:
        rows = [a_row(zzu), a_row(zzu, 分类代码="9999")]
        source = xlsx_bytes([HEADERS, *([row[h] for h in HEADERS] for row in rows)])

        assert rejection_lines(session, source, filename="c.xlsx", now=now) == [
            "row 3: 分类代码: unknown national class code 9999"]

    def test_english_headers_name_the_field_in_problem_lines(
            self, session: Session, zzu: Organisation, now: datetime) -> None:
        source = csv_bytes([{"exchange_id": "ZZ-0000001", "name_zh": "电镜",
                             "class_code": "0101", "original_value": "x",
                             "organisation": "ZZU"}])

        assert rejection_lines(session, source, now=now) == [
            "row 2: original_value: not an amount: 'x'"]


class TestCatalogImportRejected:
    def test_is_invalid_input_and_carries_the_problems(self) -> None:
        problems = [ImportProblem(2, "仪器名称", "required"), ImportProblem(0, "file", "empty")]

        error = CatalogImportRejected(problems)

        assert isinstance(error, InvalidInput)
        assert error.problems == tuple(problems)
        assert str(error) == "catalog import: 2 problems in the file; nothing stored"
        assert [str(p) for p in error.problems] == ["row 2: 仪器名称: required",
                                                    "row 0: file: empty"]
