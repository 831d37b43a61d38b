from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from scishare.accounts.models import Organisation
from scishare.catalog.exporting import Format, catalog_template, export_catalog
from scishare.catalog.models import Instrument, LifecycleState, ServiceUnit
from scishare.catalog.schemas import EXCHANGE_ID, InstrumentCreate
from scishare.catalog.service import (
    get_instrument,
    read_instrument,
    register_instruments_in_bulk,
    sync_reference_data,
)
from scishare.cli import app
from scishare.core import database
from scishare.core import settings as core_settings
from scishare.core.database import make_engine
from scishare.core.errors import NotFound
from scishare.core.migrations import upgrade
from scishare.core.reference import read_csv
from tests.accounts.factories import an_organisation, henan
from tests.catalog.catalog_files import (
    HEADERS,
    a_row,
    csv_bytes,
    import_bytes,
    instrument_count,
    xlsx_values,
)
from tests.catalog.factories import a_service_item, an_instrument

WHEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def csv_rows(source: bytes) -> list[list[str]]:
    assert source.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark"
    return list(csv.reader(io.StringIO(source.decode("utf-8-sig"), newline="")))


def stored(session: Session) -> list[dict[str, Any]]:
    """Every instrument as its read model, without database ids."""
    records = []
    for exchange_id in session.scalars(select(Instrument.exchange_id)
                                       .order_by(Instrument.exchange_id)):
        record = read_instrument(get_instrument(session, exchange_id)).model_dump()
        for item in record["service_items"]:
            del item["id"]
        records.append(record)
    return records


@dataclass(frozen=True)
class RoundTrip:
    first: bytes
    second: bytes
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]


def round_trip(session: Session, fmt: Format, organisation: Organisation,
               make: Callable[[], object]) -> RoundTrip:
    """Make instruments, export them, remove them, import the file, and export again.

    Each half runs in a savepoint that is rolled back, so that the organisation (made
    outside) stays and the next hypothesis example starts from the same database.
    """
    made = session.begin_nested()
    try:
        make()
        first = export_catalog(session, fmt=fmt, organisation_code=organisation.code)
        before = stored(session)
    finally:
        made.rollback()
    assert instrument_count(session) == 0
    imported = session.begin_nested()
    try:
        import_bytes(session, first, filename=f"catalog.{fmt}", now=WHEN)
        second = export_catalog(session, fmt=fmt, organisation_code=organisation.code)
        return RoundTrip(first, second, before, stored(session))
    finally:
        imported.rollback()


@pytest.fixture
def zzu(session: Session) -> Organisation:
    return an_organisation(session, code="ZZU", name_zh="郑州大学")


def varied_instruments(session: Session, owner: Organisation) -> None:
    an_instrument(session, organisation=owner, exchange_id="ZZ-0000001")
    an_instrument(
        session, organisation=owner, exchange_id="ZZ-0000002", name_zh="场发射扫描电子显微镜",
        name_en="", model="=SUM(A1)", class_code="0101", technique_codes=["SEM_EDS", "EBSD"],
        specifications="分辨率 0.8 nm @ 15 kV;\n放大倍数 12×–2,000,000×, \"高真空\"",
        original_value_fen=1, purchased_on=date(2001, 1, 1), region_code="410000",
        latitude=-0.5, longitude=113.123456789, lifecycle_state=LifecycleState.RETIRED,
        is_open_external=False, has_cma=True, has_cnas=True, contact_phone="13800138000",
        service_items=[
            a_service_item(name_zh="表面形貌|成分;面扫\\点扫；线扫", name_en="SEM | EDS",
                           unit=ServiceUnit.HOUR, price_internal_fen=0),
            a_service_item(name_zh="停用项目", name_en="", is_active=False)])
    an_instrument(session, organisation=owner, exchange_id="ZZ-0000003", technique_codes=[],
                  service_items=[], original_value_fen=999_999_999_999_99)


class TestExportCatalog:
    def test_writes_the_template_with_one_row_per_instrument(
            self, session: Session, zzu: Organisation) -> None:
        an_instrument(session, organisation=zzu, exchange_id="ZZ-0000001",
                      purchased_on=date(2019, 6, 30), latitude=34.8)

        rows = csv_rows(export_catalog(session, fmt="csv"))

        assert rows[0] == HEADERS
        assert dict(zip(HEADERS, rows[1], strict=True)) == {
            "仪器编号": "ZZ-0000001", "仪器名称": "X射线衍射仪", "英文名称": "X-ray diffractometer",
            "型号": "D8 ADVANCE", "生产厂商": "Bruker", "产地国别": "", "分类代码": "0103",
            "测试技术": "XRD", "主要技术指标": "", "主要功能": "", "原值(元)": "1500000.00",
            "购置日期": "2019-06-30", "所属单位": "ZZU", "所在地区": "410100", "安放地址": "",
            "纬度": "34.8", "经度": "", "运行状态": "在用", "对外开放": "是", "CMA": "否",
            "CNAS": "否", "联系人": "", "联系电话": "", "联系邮箱": "",
            "服务项目": "常规测试|样|100.00|150.00|300.00|Routine test"}

    def test_xlsx_keeps_codes_as_text_and_amounts_and_dates_as_values(
            self, session: Session, zzu: Organisation) -> None:
        an_instrument(session, organisation=zzu, exchange_id="ZZ-0000001",
                      purchased_on=date(2019, 6, 30), model="=1+1")

        values = xlsx_values(export_catalog(session, fmt="xlsx"))

        assert list(values[0]) == HEADERS
        row = dict(zip(HEADERS, values[1], strict=True))
        assert (row["分类代码"], row["原值(元)"], row["购置日期"], row["型号"]) == (
            "0103", 1500000, datetime(2019, 6, 30), "=1+1")

    def test_filters_by_region_and_organisation(self, session: Session,
                                                zzu: Organisation) -> None:
        other = an_organisation(session, code="HNAS", name_zh="河南省科学院")
        an_instrument(session, organisation=zzu, exchange_id="ZZ-0000001")
        an_instrument(session, organisation=zzu, exchange_id="ZZ-0000002", region_code="410000")
        an_instrument(session, organisation=other, exchange_id="ZZ-0000003")

        def ids(**filters: str) -> list[str]:
            return [row[0] for row in csv_rows(export_catalog(session, fmt="csv", **filters))[1:]]

        assert ids() == ["ZZ-0000001", "ZZ-0000002", "ZZ-0000003"]
        assert ids(organisation_code="ZZU") == ["ZZ-0000001", "ZZ-0000002"]
        assert ids(region_code="410100") == ["ZZ-0000001", "ZZ-0000003"]
        assert ids(region_code="410000") == ["ZZ-0000001", "ZZ-0000002", "ZZ-0000003"]
        assert ids(region_code="410100", organisation_code="HNAS") == ["ZZ-0000003"]

    def test_unknown_organisation_is_not_found(self, session: Session) -> None:
        with pytest.raises(NotFound):
            export_catalog(session, fmt="csv", organisation_code="NOPE")

    def test_reads_large_catalogs_in_chunks(self, session: Session, zzu: Organisation,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
        from scishare.catalog import exporting

        monkeypatch.setattr(exporting, "CHUNK_SIZE", 2)
        rows = [a_row(zzu, 仪器编号=f"ZZ-000000{i}") for i in range(5)]
        import_bytes(session, csv_bytes(rows, headers=HEADERS), now=WHEN)

        exported = csv_rows(export_catalog(session, fmt="csv"))

        assert [row[0] for row in exported[1:]] == [f"ZZ-000000{i}" for i in range(5)]


class TestCatalogTemplate:
    def test_csv_is_the_header_row(self) -> None:
        assert csv_rows(catalog_template("csv")) == [HEADERS]

    def test_xlsx_is_the_header_row(self) -> None:
        assert xlsx_values(catalog_template("xlsx")) == [tuple(HEADERS)]


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_export_imports_back_to_the_same_records(
            self, session: Session, zzu: Organisation, fmt: Format) -> None:
        trip = round_trip(session, fmt, zzu, lambda: varied_instruments(session, zzu))

        assert trip.after == trip.before
        assert len(trip.after) == 3
        if fmt == "csv":
            assert trip.second == trip.first
        else:
            assert xlsx_values(trip.second) == xlsx_values(trip.first)


# Property: for any valid field values, export -> import -> export is the identity ----------

def _text(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    # Text people can type: no control characters (XML cannot hold most of them), no
    # surrogates or unassigned code points; leading and trailing spaces are not kept.
    alphabet = st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn"),
                             include_characters="\n")
    return st.text(alphabet, max_size=max_size).map(str.strip).filter(
        lambda text: len(text) >= min_size)


CLASS_CODES = sorted(row["code"] for row in read_csv("instrument_classes.csv")
                     if row["level"] == "2")
TECHNIQUE_CODES = sorted(row["code"] for row in read_csv("knowledge", "techniques.csv"))
FEN = st.integers(min_value=0, max_value=2**63 - 1)  # the BIGINT column's range
COORDINATE = st.none() | st.floats(min_value=-90, max_value=90, allow_nan=False)

service_items = st.fixed_dictionaries({
    "name_zh": _text(128, min_size=1), "name_en": _text(200),
    "unit": st.sampled_from(ServiceUnit), "price_internal_fen": FEN,
    "price_nonprofit_fen": FEN, "price_enterprise_fen": FEN, "is_active": st.booleans()})

instrument_fields = st.fixed_dictionaries({
    "exchange_id": st.from_regex(EXCHANGE_ID, fullmatch=True),
    "name_zh": _text(128, min_size=1), "name_en": _text(200), "model": _text(100),
    "manufacturer": _text(100), "country_of_origin": _text(64),
    "class_code": st.sampled_from(CLASS_CODES),
    "technique_codes": st.lists(st.sampled_from(TECHNIQUE_CODES), unique=True, max_size=12),
    "specifications": _text(500), "functions": _text(300), "original_value_fen": FEN,
    "purchased_on": st.none() | st.dates(min_value=date(1950, 1, 1),
                                         max_value=date(2026, 11, 24)),
    "region_code": st.sampled_from(["410100", "410000"]), "address": _text(256),
    "latitude": COORDINATE, "longitude": COORDINATE,
    "lifecycle_state": st.sampled_from(LifecycleState), "is_open_external": st.booleans(),
    "has_cma": st.booleans(), "has_cnas": st.booleans(), "contact_name": _text(64),
    "contact_phone": _text(32), "contact_email": _text(254),
    "service_items": st.lists(service_items, max_size=4),
})


class TestRoundTripProperty:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    @settings(max_examples=30, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(fields=st.lists(instrument_fields, min_size=1, max_size=3,
                           unique_by=lambda fields: fields["exchange_id"]))
    def test_export_import_export_is_the_identity(
            self, session: Session, zzu: Organisation, fmt: Format,
            fields: list[dict[str, Any]]) -> None:
        records = [InstrumentCreate.model_validate(value | {"organisation_id": zzu.id})
                   for value in fields]

        trip = round_trip(session, fmt, zzu,
                          lambda: register_instruments_in_bulk(session, records, now=WHEN))

        assert trip.after == trip.before
        assert [InstrumentCreate.model_validate(record | {"organisation_id": zzu.id})
                for record in trip.after] == sorted(records, key=lambda r: r.exchange_id)
        if fmt == "csv":
            assert trip.second == trip.first
        else:
            assert xlsx_values(trip.second) == xlsx_values(trip.first)


# The command line -------------------------------------------------------------------------

@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database with one organisation, as `SCISHARE_DATABASE_URL`."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_reference_data(session)
        henan(session)
        an_organisation(session, code="ZZU", name_zh="郑州大学")
        session.commit()
    engine.dispose()
    monkeypatch.setenv("SCISHARE_DATABASE_URL", url)
    core_settings.get_settings.cache_clear()
    database.get_engine.cache_clear()
    yield url
    database.get_engine().dispose()
    core_settings.get_settings.cache_clear()
    database.get_engine.cache_clear()


def cli_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return instrument_count(session)
    finally:
        engine.dispose()


class TestCommandLine:
    def test_import_with_problems_exits_2_lists_them_and_stores_nothing(
            self, cli_database: str, tmp_path: Path) -> None:
        file = tmp_path / "bad.csv"
        file.write_text("仪器编号,仪器名称,分类代码,原值(元),所属单位\n"
                        "ZZ-0000001,电镜,0101,1,ZZU\n"
                        "ZZ-0000002,,9999,-3,ZZU\n"
                        "ZZ-0000001,电镜,0101,1,某某大学\n", encoding="utf-8")

        result = CliRunner().invoke(app, ["catalog", "import", str(file)])

        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            "row 3: 仪器名称: required",
            "row 3: 分类代码: unknown national class code 9999",
            "row 3: 原值(元): must not be negative: -3",
            "row 4: 仪器编号: ZZ-0000001 appears again (first on row 2)",
            "row 4: 所属单位: unknown organisation '某某大学' (give its code or Chinese name)"]
        assert result.stdout == ""
        assert cli_count(cli_database) == 0

    def test_import_export_and_template(self, cli_database: str, tmp_path: Path) -> None:
        runner = CliRunner()
        source = tmp_path / "in.xlsx"
        runner.invoke(app, ["catalog", "template", str(source)])
        from openpyxl import load_workbook

        book = load_workbook(source)
        sheet = book.worksheets[0]
        assert [cell.value for cell in sheet[1]] == HEADERS
        for i in range(3):
            row = a_row("ZZU", 仪器编号=f"ZZ-000000{i}")
            sheet.append([row[header] for header in HEADERS])
        book.save(source)

        imported = runner.invoke(app, ["catalog", "import", str(source)])
        exported = runner.invoke(app, ["catalog", "export", str(tmp_path / "out.csv"),
                                       "--organisation", "ZZU", "--region", "410000"])
        again = runner.invoke(app, ["catalog", "import", str(tmp_path / "out.csv")])

        assert (imported.exit_code, imported.stdout) == (
            0, "imported 3 instruments with 6 service items for 1 organisations\n")
        assert (exported.exit_code, exported.stdout) == (
            0, f"exported 3 instruments to {tmp_path / 'out.csv'}\n")
        assert [row[0] for row in csv_rows((tmp_path / "out.csv").read_bytes())[1:]] == [
            "ZZ-0000000", "ZZ-0000001", "ZZ-0000002"]
        assert again.exit_code == 2
        assert again.stderr.splitlines() == [
            f"row {n}: 仪器编号: ZZ-000000{n - 2} is already listed" for n in (2, 3, 4)]
        assert cli_count(cli_database) == 3

    def test_refuses_unknown_file_types_and_organisations(self, cli_database: str,
                                                          tmp_path: Path) -> None:
        runner = CliRunner()

        wrong_type = runner.invoke(app, ["catalog", "export", str(tmp_path / "out.xls")])
        unknown = runner.invoke(app, ["catalog", "export", str(tmp_path / "out.csv"),
                                      "--organisation", "NOPE"])

        assert (wrong_type.exit_code, wrong_type.stderr) == (
            2, f"{tmp_path / 'out.xls'}: unsupported file type .xls: use .csv or .xlsx\n")
        assert (unknown.exit_code, unknown.stderr) == (
            2, "organisation NOPE: code: no organisation with code NOPE\n")
        assert not (tmp_path / "out.csv").exists()
