"""Export the catalog in the import template, so that the file imports back unchanged.

Instruments are read in chunks ordered by exchange id (keyset pagination), so memory stays
flat for large catalogs and the file is stable from one export to the next.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any, Final, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation
from scishare.accounts.service import get_organisation_by_code
from scishare.catalog.importing import (
    COLUMNS,
    ITEM_SEPARATORS,
    NO,
    PART_SEPARATOR,
    STATE_LABELS,
    UNIT_LABELS,
    YES,
    escape,
)
from scishare.catalog.models import (
    Instrument,
    InstrumentTechnique,
    LifecycleState,
    ServiceItem,
    ServiceUnit,
)
from scishare.core.money import format_yuan
from scishare.regions.service import region_and_descendants

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Format = Literal["csv", "xlsx"]
Value = str | Decimal | float | date | None
"""A cell as exported: text, yuan with two decimals, a coordinate, a date, or empty."""

CHUNK_SIZE: Final = 2000
SHEET_TITLE: Final = "仪器目录"
_MONEY_FORMAT: Final = "0.00"
_EXACT_IN_EXCEL: Final = Decimal(10**13)  # yuan with 2 decimals in 15 significant digits
_DATE_FORMAT: Final = "yyyy-mm-dd"
_WIDE: Final = {"仪器名称": 24, "英文名称": 24, "主要技术指标": 40, "主要功能": 40,
                "安放地址": 30, "服务项目": 60, "所属单位": 16}


def export_catalog(session: Session, *, fmt: Format, region_code: str | None = None,
                   organisation_code: str | None = None) -> bytes:
    """The catalog (of a region and the regions below it, or of one organisation) as a file."""
    out = io.BytesIO()
    write_catalog(session, out, fmt=fmt, region_code=region_code,
                  organisation_code=organisation_code)
    return out.getvalue()


def write_catalog(session: Session, out: IO[bytes], *, fmt: Format,
                  region_code: str | None = None, organisation_code: str | None = None) -> int:
    """Write the catalog to `out` in the import template; returns the number of instruments."""
    rows = catalog_rows(session, region_code=region_code, organisation_code=organisation_code)
    return _write(out, fmt, rows)


def catalog_template(fmt: Format) -> bytes:
    """An empty template: the header row only (docs/catalog-import.md has an example)."""
    out = io.BytesIO()
    _write(out, fmt, iter(()))
    return out.getvalue()


def catalog_rows(session: Session, *, region_code: str | None = None,
                 organisation_code: str | None = None) -> Iterator[list[Value]]:
    """One row of template cells per instrument, ordered by exchange id."""
    # Plain columns rather than ORM objects: an export touches every field of every row.
    query = (select(Instrument.id, Organisation.code,
                    *(getattr(Instrument, key) for key in _STORED))
             .join(Organisation, Organisation.id == Instrument.organisation_id)
             .order_by(Instrument.exchange_id).limit(CHUNK_SIZE))
    if region_code is not None:
        query = query.where(Instrument.region_code.in_(
            region_and_descendants(session, region_code)))
    if organisation_code is not None:
        owner = get_organisation_by_code(session, organisation_code)
        query = query.where(Instrument.organisation_id == owner.id)
    last: str | None = None
    while True:
        chunk = session.execute(query if last is None
                                else query.where(Instrument.exchange_id > last)).all()
        if not chunk:
            return
        ids = [row[0] for row in chunk]
        techniques: dict[int, list[str]] = defaultdict(list)
        for instrument_id, code in session.execute(
                select(InstrumentTechnique.instrument_id, InstrumentTechnique.technique_code)
                .where(InstrumentTechnique.instrument_id.in_(ids))
                .order_by(InstrumentTechnique.instrument_id, InstrumentTechnique.position)):
            techniques[instrument_id].append(code)
        items: dict[int, list[str]] = defaultdict(list)
        for item in session.execute(
                select(ServiceItem.instrument_id, ServiceItem.name_zh, ServiceItem.name_en,
                       ServiceItem.unit, ServiceItem.price_internal_fen,
                       ServiceItem.price_nonprofit_fen, ServiceItem.price_enterprise_fen,
                       ServiceItem.is_active)
                .where(ServiceItem.instrument_id.in_(ids))
                .order_by(ServiceItem.instrument_id, ServiceItem.position)):
            items[item[0]].append(_service_item(*item[1:]))
        for instrument_id, owner_code, *stored in chunk:
            cells: dict[str, Value] = dict(zip(_STORED, stored, strict=True))
            for key, convert in _CONVERTERS.items():
                cells[key] = convert(cells[key])
            cells["organisation_id"] = owner_code
            cells["technique_codes"] = ITEM_SEPARATORS[0].join(techniques[instrument_id])
            cells["service_items"] = (ITEM_SEPARATORS[0] + " ").join(items[instrument_id])
            yield [cells[column.key] for column in COLUMNS]
        last = chunk[-1][_EXCHANGE_ID_AT]


@lru_cache(maxsize=4096)
def _yuan_text(fen: int) -> str:
    return format_yuan(fen)  # price lists repeat a few amounts many times


def _yuan(fen: Any) -> Value:
    return Decimal(_yuan_text(fen))


def _state(state: Any) -> Value:
    return STATE_LABELS[LifecycleState(state)]


def _yes_no(flag: Any) -> Value:
    return YES if flag else NO


def _service_item(name_zh: str, name_en: str, unit: str, internal_fen: int,
                  nonprofit_fen: int, enterprise_fen: int, is_active: bool) -> str:
    """`名称|单位|校内价|非营利价|企业价[|英文名称[|启用]]`, with separators escaped."""
    parts = [escape(name_zh), UNIT_LABELS[ServiceUnit(unit)], _yuan_text(internal_fen),
             _yuan_text(nonprofit_fen), _yuan_text(enterprise_fen)]
    if name_en or not is_active:
        parts.append(escape(name_en))
    if not is_active:
        parts.append(NO)
    return PART_SEPARATOR.join(parts)


# Template columns read straight from the instrument row, and how some are written.
_STORED: Final = tuple(column.key for column in COLUMNS if column.key not in (
    "technique_codes", "service_items", "organisation_id"))
_EXCHANGE_ID_AT: Final = 2 + _STORED.index("exchange_id")  # after Instrument.id and the code
_CONVERTERS: Final[dict[str, Callable[[Any], Value]]] = {
    "original_value_fen": _yuan, "lifecycle_state": _state, "is_open_external": _yes_no,
    "has_cma": _yes_no, "has_cnas": _yes_no}


# Writing files -----------------------------------------------------------------------------

def _write(out: IO[bytes], fmt: Format, rows: Iterator[list[Value]]) -> int:
    if fmt == "csv":
        return _write_csv(out, rows)
    if fmt == "xlsx":
        return _write_xlsx(out, rows)
    raise ValueError(f"unknown export format {fmt!r}")


def _write_csv(out: IO[bytes], rows: Iterator[list[Value]]) -> int:
    # Excel opens a CSV as UTF-8 only when it starts with a byte-order mark.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow([column.header for column in COLUMNS])
    count = 0
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        count += 1
    text.flush()
    text.detach()  # leave `out` open for the caller
    return count


def _write_xlsx(out: IO[bytes], rows: Iterator[list[Value]]) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDE.get(column.header, 12)
    bold = Font(bold=True)
    sheet.append([_header_cell(sheet, column.header, bold) for column in COLUMNS])
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        count += 1
    book.save(out)
    return count


def _header_cell(sheet: WriteOnlyWorksheet, text: str, font: Font) -> Cell:
    cell = WriteOnlyCell(sheet, text)
    cell.font = font
    return cell


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Value) -> object:
    if value == "":
        return None  # no cell at all: a smaller file, and it reads back as empty
    if isinstance(value, str):
        if ILLEGAL_CHARACTERS_RE.search(value):
            # XML cannot hold these control characters at all; the text loses them.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            # openpyxl would write it as a formula; it is text someone typed.
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
        return value
    if isinstance(value, Decimal):
        if value >= _EXACT_IN_EXCEL:
            return str(value)  # beyond Excel's 15 significant digits: text keeps every one
        # A number, so that the sheet can sum and sort it.
        cell = WriteOnlyCell(sheet, float(value))
        cell.number_format = _MONEY_FORMAT
        return cell
    if isinstance(value, float):
        # Coordinates as text: a double needs up to 17 digits, openpyxl writes 16.
        return repr(value)
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, datetime.combine(value, time()))
        cell.number_format = _DATE_FORMAT
        return cell
    return value
