"""Import a catalog file (CSV or XLSX): every row is checked before any row is stored.

The template's columns are defined here, once; `catalog.exporting` writes the same columns,
so an exported file imports back to the same records. `docs/catalog-import.md` is the user's
description of the template; keep it in step with `COLUMNS` and the cell readers below.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import PurePath
from typing import Any, BinaryIO, Final

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, organisations_by_key
from scishare.catalog.errors import CatalogImportRejected, ImportProblem
from scishare.catalog.models import LifecycleState, ServiceUnit
from scishare.catalog.schemas import InstrumentCreate, InstrumentUpdate, ServiceItemCreate
from scishare.catalog.service import (
    ReferenceSets,
    existing_exchange_ids,
    refresh_statistics,
    register_instruments_in_bulk,
)
from scishare.core.clock import to_display
from scishare.core.money import Money
from scishare.regions.service import list_regions

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "CatalogImportRejected",
    "Column",
    "ImportProblem",
    "ImportReport",
    "import_catalog",
]

# Big enough that executemany dominates, small enough that progress moves every second or so.
BATCH_SIZE: Final = 2000
FILE: Final = "file"
# The largest catalog file taken: Shanghai's 23,504 instruments fill about 25 MB of CSV.
MAX_FILE_BYTES: Final = 64 * 1024 * 1024
FILE_ROW: Final = 0
HEADER_ROW: Final = 1


@dataclass(frozen=True)
class Column:
    """One column of the catalog template."""

    key: str
    """The `InstrumentCreate` field the column fills."""
    header: str
    """The Chinese header that export and the template write."""
    aliases: tuple[str, ...]
    """Other headers accepted on import; the first is the documented English name."""
    required: bool = False


COLUMNS: Final[tuple[Column, ...]] = (
    Column("exchange_id", "仪器编号", ("exchange_id",), required=True),
    Column("name_zh", "仪器名称", ("name_zh", "name"), required=True),
    Column("name_en", "英文名称", ("name_en",)),
    Column("model", "型号", ("model", "规格型号")),
    Column("manufacturer", "生产厂商", ("manufacturer", "生产厂家")),
    Column("country_of_origin", "产地国别", ("country_of_origin", "country", "产地")),
    Column("class_code", "分类代码", ("class_code",), required=True),
    Column("technique_codes", "测试技术", ("techniques", "technique_codes")),
    Column("specifications", "主要技术指标", ("specifications",)),
    Column("functions", "主要功能", ("functions",)),
    Column("original_value_fen", "原值(元)", ("original_value_yuan", "original_value", "原值"),
           required=True),
    Column("purchased_on", "购置日期", ("purchased_on",)),
    Column("organisation_id", "所属单位", ("organisation",), required=True),
    Column("region_code", "所在地区", ("region", "region_code")),
    Column("address", "安放地址", ("address",)),
    Column("latitude", "纬度", ("latitude",)),
    Column("longitude", "经度", ("longitude",)),
    Column("lifecycle_state", "运行状态", ("lifecycle_state", "state")),
    Column("is_open_external", "对外开放", ("open_external", "is_open_external")),
    Column("has_cma", "CMA", ("cma", "has_cma")),
    Column("has_cnas", "CNAS", ("cnas", "has_cnas")),
    Column("contact_name", "联系人", ("contact_name",)),
    Column("contact_phone", "联系电话", ("contact_phone",)),
    Column("contact_email", "联系邮箱", ("contact_email",)),
    Column("service_items", "服务项目", ("service_items",)),
)
HEADER_OF: Final = {column.key: column.header for column in COLUMNS}

# Words the cells use; export writes the first (Chinese) word of each.
STATE_LABELS: Final = {
    LifecycleState.IN_SERVICE: "在用",
    LifecycleState.UNDER_MAINTENANCE: "维修中",
    LifecycleState.IDLE: "闲置",
    LifecycleState.OFFERED_FOR_TRANSFER: "待流转",
    LifecycleState.RETIRED: "已报废",
}
UNIT_LABELS: Final = {ServiceUnit.HOUR: "小时", ServiceUnit.SAMPLE: "样"}
YES, NO = "是", "否"
ITEM_SEPARATORS: Final = ";；"  # Chinese input methods type the full-width one
PART_SEPARATOR: Final = "|"
ESCAPE: Final = "\\"
PRICE_LABELS: Final = ("校内价", "非营利价", "企业价")

_STATES: Final = {label: state for state, label in STATE_LABELS.items()} | {
    state.value: state for state in LifecycleState}
_UNITS: Final = {label: unit for unit, label in UNIT_LABELS.items()} | {
    unit.value: unit for unit in ServiceUnit} | {
    "h": ServiceUnit.HOUR, "机时": ServiceUnit.HOUR, "样品": ServiceUnit.SAMPLE}
_BOOLEANS: Final = {YES: True, NO: False, "有": True, "无": False, "yes": True, "no": False,
                    "y": True, "n": False, "true": True, "false": False, "1": True, "0": False}
_DATE: Final = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_LINE_BREAKS: Final = re.compile(r"\r\n?")
_AMOUNT_NOISE: Final = re.compile(r"[,，¥￥\s]")  # thousands separators, currency signs
_PLAIN_AMOUNT: Final = re.compile(r"(-?)\d+\.?(\d*)")
_MAX_FEN: Final = 2**63 - 1  # the BIGINT columns that hold fen
_PATTERN_HINTS: Final = {
    "exchange_id": "not an exchange id (2–4 capital letters, '-', 4–10 digits, e.g. ZZ-0001234)",
    "class_code": "not a 4-digit national class code (e.g. 0103)",
    "region_code": "not a 6-digit region code or a known region name",
}


@dataclass(frozen=True)
class ImportReport:
    """What an accepted file stored."""

    instruments: int
    service_items: int
    organisation_codes: tuple[str, ...]
    """The organisations that received instruments, sorted."""


def import_catalog(session: Session, source: bytes | BinaryIO, *, filename: str, actor: Actor,
                   now: datetime, progress: Callable[[int, int], None] | None = None
                   ) -> ImportReport:
    """Store every instrument in a CSV/XLSX catalog file, or none if any row has a problem.

    Raises `CatalogImportRejected` listing every problem (`row <n>: <field>: <reason>`); the
    actor needs `IMPORT_CATALOG` on each row's organisation. `progress(done, total)` is called
    as batches of instruments are stored. `source` may be an open file (an upload): then no
    more of it is read than the size limit allows.
    """
    if not isinstance(source, bytes):
        source = source.read(MAX_FILE_BYTES + 1)
    try:
        rows = _read_rows(source, filename)
    except _FileProblem as problem:
        raise CatalogImportRejected([ImportProblem(FILE_ROW, FILE, problem.reason)]) from None
    layout, problems = _read_header(rows[0])
    if problems:
        # The rows cannot be read until the columns are right; more lines would be noise.
        raise CatalogImportRejected(problems)
    checker = _Checker(session, actor=actor, layout=layout, today=to_display(now).date())
    for number, cells in enumerate(rows[1:], start=HEADER_ROW + 1):
        if not all(_is_blank(cell) for cell in cells):
            checker.check_row(number, cells)
    if not checker.rows_seen:
        raise CatalogImportRejected([ImportProblem(FILE_ROW, FILE,
                                                   "no instrument rows below the header")])
    checker.check_already_listed()
    if checker.found:
        raise CatalogImportRejected(checker.problems)

    records = checker.records
    total = len(records)
    if progress is not None:
        progress(0, total)
    done = 0
    for start in range(0, total, BATCH_SIZE):
        done += register_instruments_in_bulk(session, records[start:start + BATCH_SIZE],
                                             now=now)
        if progress is not None:
            progress(done, total)
    refresh_statistics(session)
    return ImportReport(
        instruments=done,
        service_items=sum(len(record.service_items) for record in records),
        organisation_codes=tuple(sorted(checker.owners_used)))


# Reading the file --------------------------------------------------------------------------

class _FileProblem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _read_rows(source: bytes, filename: str) -> list[Sequence[object]]:
    """The file's rows, the header first; raises _FileProblem if there is nothing to read."""
    if len(source) > MAX_FILE_BYTES:
        raise _FileProblem(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split the "
                           "catalog into several files")
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(source)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(source)
    else:
        raise _FileProblem(f"unsupported file type {suffix or '(none)'}: use .csv or .xlsx")
    while rows and all(_is_blank(cell) for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise _FileProblem("empty file")
    if all(_is_blank(cell) for cell in rows[0]):
        raise _FileProblem("the first row must hold the column headers")
    return rows


def _csv_rows(source: bytes) -> list[Sequence[object]]:
    try:
        # utf-8-sig drops the byte-order mark that Excel writes with "CSV UTF-8".
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _FileProblem(
            f"not UTF-8 (byte 0x{source[error.start]:02x} at offset {error.start}); "
            "save it as \"CSV UTF-8\" (Excel) or with UTF-8 encoding (WPS)") from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise _FileProblem(f"not a readable CSV file: {error}") from None


def _xlsx_rows(source: bytes) -> list[Sequence[object]]:
    try:
        # data_only: a formula cell imports as the value Excel last computed for it.
        book = load_workbook(io.BytesIO(source), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise _FileProblem("not a readable .xlsx workbook") from None
    try:
        sheet = book.worksheets[0]
        # Some writers record a wrong sheet size; re-measuring reads every row there is.
        sheet.reset_dimensions()
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError):
        raise _FileProblem("not a readable .xlsx workbook") from None
    finally:
        book.close()


def _normal_header(text: str) -> str:
    """A header as looked up: no required-marker stars, half-width brackets, lower case."""
    text = text.strip().strip("*＊").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"[\s-]+", "_", text).lower()


_COLUMN_BY_HEADER: Final = {_normal_header(name): column for column in COLUMNS
                            for name in (column.header, *column.aliases)}


@dataclass(frozen=True)
class _Place:
    index: int
    column: Column
    header: str
    """As written in the file, so that problem lines name what the user sees."""


def _read_header(cells: Sequence[object]) -> tuple[list[_Place], list[ImportProblem]]:
    places: list[_Place] = []
    problems: list[ImportProblem] = []
    seen: dict[str, str] = {}
    for index, cell in enumerate(cells):
        header = _text(cell)
        if not header:
            continue
        column = _COLUMN_BY_HEADER.get(_normal_header(header))
        if column is None:
            problems.append(ImportProblem(HEADER_ROW, header, "unknown column"))
        elif column.key in seen:
            problems.append(ImportProblem(HEADER_ROW, header,
                                          f"same column as {seen[column.key]}"))
        else:
            seen[column.key] = header
            places.append(_Place(index, column, header))
    problems.extend(ImportProblem(HEADER_ROW, column.header, "required column missing")
                    for column in COLUMNS if column.required and column.key not in seen)
    return places, problems


# Reading cells -----------------------------------------------------------------------------

class _CellProblem(Exception):
    """A cell that cannot be read; one cell may have several problems (service items)."""

    def __init__(self, *reasons: str) -> None:
        super().__init__(*reasons)
        self.reasons = reasons


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text(cell: object) -> str:
    if type(cell) is str and "\r" not in cell:
        return cell.strip()  # nearly every cell; the rest of this function is for XLSX
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        text = cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    elif isinstance(cell, date):
        text = cell.isoformat()
    elif isinstance(cell, float):
        text = format(cell, ".15g")  # as Excel shows the number
    else:
        text = str(cell)
    if "\r" in text:
        # Excel keeps line breaks inside cells as LF; a CSV from Windows may carry CRLF.
        text = _LINE_BREAKS.sub("\n", text)
    return text.strip()


def _code(width: int) -> Callable[[object], str]:
    def read(cell: object) -> str:
        # Excel turns a typed 0103 into the number 103; the width says how to pad it back.
        if (isinstance(cell, int | float) and not isinstance(cell, bool)
                and float(cell).is_integer() and 0 <= cell < 10**width):
            return f"{int(cell):0{width}d}"
        return _text(cell)
    return read


def _money_fen(cell: object) -> int:
    if isinstance(cell, bool):
        raise _CellProblem(f"not an amount: {cell!r}")
    # An XLSX number is a double; Excel shows and keeps 15 significant digits of it, which is
    # what the user typed (a double may differ from it in the 16th or 17th digit).
    text = format(cell, ".15g") if isinstance(cell, float) else _text(cell)
    cleaned = _AMOUNT_NOISE.sub("", text)
    plain = _PLAIN_AMOUNT.fullmatch(cleaned)
    if plain is None:
        # Rare spellings (1e5, +12) go the slow way; the checks below are the same.
        try:
            yuan = Decimal(cleaned)
        except InvalidOperation:
            raise _CellProblem(f"not an amount: {text!r}") from None
        if not yuan.is_finite():
            raise _CellProblem(f"not an amount: {text!r}")
        exponent = yuan.normalize().as_tuple().exponent
        negative, too_precise = yuan < 0, isinstance(exponent, int) and exponent < -2
    else:
        negative = plain[1] == "-" and cleaned.strip("-0.") != ""
        too_precise = len(plain[2].rstrip("0")) > 2
    if negative:
        raise _CellProblem(f"must not be negative: {text}")
    if too_precise:
        raise _CellProblem(f"more than 2 decimal places: {text}")
    fen = _fen(cleaned)
    if fen > _MAX_FEN:
        raise _CellProblem(f"too large: {text}")
    return fen


@lru_cache(maxsize=4096)
def _fen(cleaned: str) -> int:
    # Price lists repeat the same few amounts thousands of times in a large file.
    return Money.parse(cleaned).fen


def _number(cell: object) -> float:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell)
    text = _text(cell)
    try:
        value = float(text)
    except ValueError:
        raise _CellProblem(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _CellProblem(f"not a number: {text!r}")
    return value


def _date(cell: object) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    found = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        raise _CellProblem(f"not a date (YYYY-MM-DD): {text!r}") from None


def _boolean(cell: object) -> bool:
    if isinstance(cell, bool):
        return cell
    text = _text(cell)
    found = _BOOLEANS.get(text.lower())
    if found is None:
        raise _CellProblem(f"not yes or no: {text!r} (use {YES}/{NO})")
    return found


def _state(cell: object) -> LifecycleState:
    text = _text(cell)
    found = _STATES.get(text) or _STATES.get(re.sub(r"[\s-]+", "_", text.lower()))
    if found is None:
        raise _CellProblem(f"unknown state {text!r} (use {'/'.join(STATE_LABELS.values())})")
    return found


def _codes(cell: object) -> list[str]:
    return [code.strip() for code in _SEPARATOR_PATTERNS[ITEM_SEPARATORS].split(_text(cell))
            if code.strip()]


def split_escaped(text: str, separators: str) -> list[str]:
    """Split at any of `separators` not preceded by a backslash; escapes are kept."""
    if ESCAPE not in text:
        return _SEPARATOR_PATTERNS[separators].split(text)
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == ESCAPE:
            current.append(char + next(chars, ""))
        elif char in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text) if ESCAPE in text else text


def escape(text: str) -> str:
    """Protect the characters that separate service items and their parts."""
    return _TO_ESCAPE.sub(r"\\\1", text)


_ESCAPED: Final = re.compile(r"\\(.)", re.DOTALL)
_TO_ESCAPE: Final = re.compile(f"([{re.escape(ESCAPE + PART_SEPARATOR + ITEM_SEPARATORS)}])")
_SEPARATOR_PATTERNS: Final = {separators: re.compile(f"[{re.escape(separators)}]")
                              for separators in (ITEM_SEPARATORS, PART_SEPARATOR)}


def _service_items(cell: object) -> list[ServiceItemCreate]:
    items: list[ServiceItemCreate] = []
    reasons: list[str] = []
    texts = [item for item in split_escaped(_text(cell), ITEM_SEPARATORS) if item.strip()]
    for number, item in enumerate(texts, start=1):
        try:
            items.append(_service_item(item))
        except _CellProblem as problem:
            reasons.extend(f"item {number}: {reason}" for reason in problem.reasons)
    if reasons:
        raise _CellProblem(*reasons)
    return items


def _service_item(text: str) -> ServiceItemCreate:
    parts = [unescape(part.strip()) for part in split_escaped(text, PART_SEPARATOR)]
    if not 5 <= len(parts) <= 7:
        raise _CellProblem(f"{len(parts)} parts, expected 名称|单位|校内价|非营利价|企业价"
                           "[|英文名称[|启用]]")
    name_zh, unit_text, *prices = parts[:5]
    reasons: list[str] = []
    if not name_zh:
        reasons.append("name required")
    unit = _UNITS.get(unit_text.lower())
    if unit is None:
        reasons.append(f"unknown unit {unit_text!r} (use 小时/hour or 样/sample)")
    fen: list[int] = []
    for label, price in zip(PRICE_LABELS, prices, strict=True):
        try:
            if not price:
                raise _CellProblem("required")
            fen.append(_money_fen(price))
        except _CellProblem as problem:
            reasons.extend(f"{label}: {reason}" for reason in problem.reasons)
    active = True
    if len(parts) == 7 and parts[6]:
        try:
            active = _boolean(parts[6])
        except _CellProblem as problem:
            reasons.extend(f"启用: {reason}" for reason in problem.reasons)
    if reasons or unit is None:
        raise _CellProblem(*reasons)
    try:
        return ServiceItemCreate(
            name_zh=name_zh, name_en=parts[5] if len(parts) > 5 else "", unit=unit,
            price_internal_fen=fen[0], price_nonprofit_fen=fen[1], price_enterprise_fen=fen[2],
            is_active=active)
    except ValidationError as error:
        raise _CellProblem(*(
            _reason(detail, key=str(detail["loc"][0]),
                    prefix=_ITEM_PART_NAMES.get(str(detail["loc"][0]), ""))
            for detail in error.errors())) from None


_ITEM_PART_NAMES: Final = {"name_zh": "name", "name_en": "English name"}


_region_code: Final = _code(6)
_READERS: Final[dict[str, Callable[[object], Any]]] = {
    "class_code": _code(4),
    "technique_codes": _codes,
    "original_value_fen": _money_fen,
    "purchased_on": _date,
    "latitude": _number,
    "longitude": _number,
    "lifecycle_state": _state,
    "is_open_external": _boolean,
    "has_cma": _boolean,
    "has_cnas": _boolean,
    "service_items": _service_items,
}


def _reason(detail: ErrorDetails, *, key: str, prefix: str = "") -> str:
    """A pydantic error on field `key` in the words of an import problem line."""
    kind, context = detail["type"], detail.get("ctx", {})
    prefix = f"{prefix} " if prefix else ""
    if kind == "string_too_long":
        return (f"{prefix}too long: {len(str(detail['input']))} characters, "
                f"at most {context['max_length']}")
    if kind == "too_long":
        return f"{prefix}too many: {context['actual_length']}, at most {context['max_length']}"
    if kind in ("missing", "string_too_short"):
        return f"{prefix}required"
    if kind == "string_pattern_mismatch":
        return _PATTERN_HINTS.get(key, f"{prefix}does not match {context['pattern']}")
    if kind == "greater_than_equal":
        return f"{prefix}must be at least {_plain(context['ge'])}"
    if kind == "less_than_equal":
        return f"{prefix}must be at most {_plain(context['le'])}"
    return f"{prefix}{detail['msg']}"


def _plain(bound: object) -> str:
    """A schema bound as people write it: 90, not 90.0."""
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)


# Checking rows -----------------------------------------------------------------------------

@dataclass
class _Checker:
    """Checks rows one by one against data loaded once, so that no row costs a query."""

    session: Session
    actor: Actor
    layout: list[_Place]
    today: date
    found: list[tuple[int, int, ImportProblem]] = field(default_factory=list)
    """(row, column index, problem): sorted so that a row's problems read left to right."""
    records: list[InstrumentCreate] = field(default_factory=list)
    owners_used: set[str] = field(default_factory=set)
    rows_seen: int = 0
    _first_row_of: dict[str, int] = field(default_factory=dict)
    _may_import: dict[int, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.organisations = organisations_by_key(self.session)
        self.region_by_name = {region.name_zh: region.code
                               for region in list_regions(self.session)}
        self.references = ReferenceSets.load(self.session)
        self.header_of = HEADER_OF | {place.column.key: place.header for place in self.layout}
        self.index_of = {place.column.key: place.index for place in self.layout}
        self.readers = [(place.index, place.column.key, place.column.required,
                         self._region if place.column.key == "region_code"
                         else _READERS.get(place.column.key, _text))
                        for place in self.layout]
        self._unnamed_by_width: dict[int, list[int]] = {}

    @property
    def problems(self) -> list[ImportProblem]:
        return [problem for _, _, problem in sorted(self.found, key=lambda f: f[:2])]

    def _problem(self, row: int, key: str, reason: str) -> None:
        self.found.append((row, self.index_of.get(key, len(self.index_of)),
                           ImportProblem(row, self.header_of[key], reason)))

    def check_row(self, row: int, cells: Sequence[object]) -> None:
        self.rows_seen += 1
        before = len(self.found)
        values: dict[str, Any] = {}
        bad: set[str] = set()  # fields whose cell already has a problem: one report is enough
        owner: Organisation | None = None
        width = len(cells)
        for index, key, required, read in self.readers:
            cell = cells[index] if index < width else None
            if type(cell) is str:
                cell = cell.strip()  # every CSV cell: blank test and readers share the strip
            if cell is None or cell == "":
                if required:
                    self._problem(row, key, "required")
                    bad.add(key)
                continue
            try:
                if key == "organisation_id":
                    owner = self._owner(cell)
                    values[key] = owner.id
                else:
                    values[key] = read(cell)
            except _CellProblem as problem:
                for reason in problem.reasons:
                    self._problem(row, key, reason)
                bad.add(key)
        for index in self._unnamed(width):
            if not _is_blank(cells[index]):
                self.found.append((row, index, ImportProblem(
                    row, f"column {index + 1}", "value in a column without a header")))
        if "region_code" not in values:
            if owner is not None:
                # An instrument stands where its organisation is unless the row says otherwise.
                values["region_code"] = owner.region_code
            else:
                bad.add("region_code")  # unknowable, and the organisation's cell says why
        if owner is not None and not self._allowed(owner):
            self._problem(row, "organisation_id", f"not allowed to import for {owner.code}")
        purchased = values.get("purchased_on")
        if isinstance(purchased, date) and purchased > self.today:
            self._problem(row, "purchased_on", f"in the future: {purchased.isoformat()}")
            bad.add("purchased_on")

        record: InstrumentCreate | None = None
        try:
            record = InstrumentCreate.model_validate(values)
        except ValidationError as error:
            for detail in error.errors():
                key = str(detail["loc"][0])
                if key not in bad:
                    self._problem(row, key, _reason(detail, key=key))
            bad.update(str(detail["loc"][0]) for detail in error.errors())
        # A row that failed validation still gets its well-formed codes checked, through a
        # partial record (all fields optional) holding only those codes.
        probe = record or InstrumentUpdate.model_construct(
            class_code=None if "class_code" in bad else values.get("class_code"),
            technique_codes=None if "technique_codes" in bad else values.get("technique_codes"),
            region_code=None if "region_code" in bad else values.get("region_code"))
        for key, reason in self.references.problems(probe):
            if key not in bad:
                self._problem(row, key, reason)

        exchange_id = values.get("exchange_id")
        if isinstance(exchange_id, str) and "exchange_id" not in bad:
            first = self._first_row_of.setdefault(exchange_id, row)
            if first != row:
                self._problem(row, "exchange_id",
                              f"{exchange_id} appears again (first on row {first})")
        if record is not None and len(self.found) == before and owner is not None:
            self.records.append(record)
            self.owners_used.add(owner.code)

    def check_already_listed(self) -> None:
        """An import adds instruments; one already listed is a problem, not an update."""
        for exchange_id in sorted(existing_exchange_ids(self.session,
                                                        list(self._first_row_of))):
            self._problem(self._first_row_of[exchange_id], "exchange_id",
                          f"{exchange_id} is already listed")

    def _unnamed(self, width: int) -> list[int]:
        """Indexes of cells under no header in a row of `width` cells (usually none)."""
        if width not in self._unnamed_by_width:
            named = set(self.index_of.values())
            self._unnamed_by_width[width] = [i for i in range(width) if i not in named]
        return self._unnamed_by_width[width]

    def _owner(self, cell: object) -> Organisation:
        key = _text(cell)
        owner = self.organisations.get(key)
        if owner is None:
            raise _CellProblem(f"unknown organisation {key!r} (give its code or Chinese name)")
        return owner

    def _region(self, cell: object) -> str:
        code = _region_code(cell)
        return self.region_by_name.get(code, code)

    def _allowed(self, owner: Organisation) -> bool:
        if owner.id not in self._may_import:
            self._may_import[owner.id] = self.actor.may(Action.IMPORT_CATALOG, Target(
                organisation_id=owner.id, region_code=owner.region_code))
        return self._may_import[owner.id]
