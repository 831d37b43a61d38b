"""Catalog files for import and export tests: rows in, CSV or XLSX bytes out, and back."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from itertools import count
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation
from scishare.accounts.service import SYSTEM
from scishare.catalog.errors import CatalogImportRejected
from scishare.catalog.importing import COLUMNS, ImportReport, import_catalog
from scishare.catalog.models import Instrument

HEADERS = [column.header for column in COLUMNS]
_serial = count(1)


def a_row(organisation: Organisation | str, **cells: str) -> dict[str, str]:
    """One instrument row under the Chinese headers; keyword cells replace the defaults."""
    code = organisation if isinstance(organisation, str) else organisation.code
    row = {
        "仪器编号": f"IM-{next(_serial):07d}", "仪器名称": "X射线衍射仪",
        "英文名称": "X-ray diffractometer", "型号": "D8 ADVANCE", "生产厂商": "Bruker",
        "产地国别": "德国", "分类代码": "0103", "测试技术": "XRD;HRXRD_XRR",
        "主要技术指标": "测角仪半径 ≥ 200 mm", "主要功能": "物相分析", "原值(元)": "1500000.50",
        "购置日期": "2019-06-30", "所属单位": code, "所在地区": "",
        "安放地址": "科学大道100号", "纬度": "34.8157", "经度": "113.5361", "运行状态": "在用",
        "对外开放": "是", "CMA": "是", "CNAS": "否", "联系人": "张老师",
        "联系电话": "0371-67781234", "联系邮箱": "xrd@example.cn",
        "服务项目": "粉末衍射|样|100|150|300|Powder XRD; 机时|小时|200|300|500",
    }
    row.update(cells)
    return row


def csv_bytes(rows: Sequence[dict[str, str]], *, headers: Sequence[str] | None = None,
              encoding: str = "utf-8") -> bytes:
    """A CSV of `rows` under `headers` (default: the keys of the first row)."""
    headers = list(headers if headers is not None else rows[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows([row.get(header, "") for header in headers] for row in rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    """A workbook whose first sheet holds `rows` as given (the header row first)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_values(source: bytes) -> list[tuple[object, ...]]:
    """The cell values of a workbook's first sheet, row by row."""
    book = load_workbook(io.BytesIO(source), read_only=True)
    try:
        return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def instrument_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Instrument)) or 0


def import_bytes(session: Session, source: bytes | BinaryIO, *, filename: str = "catalog.csv",
                 now: datetime) -> ImportReport:
    return import_catalog(session, source, filename=filename, actor=SYSTEM, now=now)


def rejection_lines(session: Session, source: bytes | BinaryIO, *, filename: str = "catalog.csv",
                    now: datetime) -> list[str]:
    """The problem lines an import of `source` is rejected with; asserts nothing was stored."""
    before = instrument_count(session)
    try:
        import_bytes(session, source, filename=filename, now=now)
    except CatalogImportRejected as rejected:
        assert instrument_count(session) == before
        return [str(problem) for problem in rejected.problems]
    raise AssertionError("the import was accepted")
