"""Statements (对账单) of an organisation's ledger accounts for a period, and their renderers.

A statement covers the Shanghai calendar days `[start, end)`: the opening balance is the sum
of the organisation's postings before the first day, each posting inside the period is a line,
and the closing balance is the opening plus the lines, which equals the ledger balance at the
end of the period. Amounts are integer fen; a debit is a positive posting, a credit negative.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.billing.errors import BadPeriod
from scishare.billing.models import Journal, LedgerAccount, Posting
from scishare.core.clock import DISPLAY_TZ


@dataclass(frozen=True)
class StatementLine:
    """One posting on one of the organisation's accounts."""

    posted_at: datetime
    posted_on: date
    journal_id: int
    kind: str
    reference: str
    memo: str
    account: str
    counterparty: str
    debit_fen: int
    credit_fen: int
    balance_fen: int


@dataclass(frozen=True)
class Statement:
    organisation_code: str
    organisation_name_zh: str
    organisation_name_en: str
    accounts: tuple[str, ...]
    start: date
    end: date
    opening_fen: int
    lines: tuple[StatementLine, ...]
    closing_fen: int

    @property
    def debit_fen(self) -> int:
        return sum(line.debit_fen for line in self.lines)

    @property
    def credit_fen(self) -> int:
        return sum(line.credit_fen for line in self.lines)


def local_midnight(day: date) -> datetime:
    """The UTC instant a Shanghai calendar day begins."""
    return datetime.combine(day, time(), tzinfo=DISPLAY_TZ).astimezone(UTC)


def _counterparties(session: Session, journal_ids: list[int],
                    own: set[int]) -> dict[int, str]:
    """For each journal, the other accounts it touches, labelled by organisation name."""
    found: dict[int, list[str]] = defaultdict(list)
    if not journal_ids:
        return {}
    rows = session.execute(
        select(Posting.journal_id, LedgerAccount.code, Organisation.name_zh)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .outerjoin(Organisation, Organisation.id == LedgerAccount.organisation_id)
        .where(Posting.journal_id.in_(journal_ids), Posting.account_id.not_in(own))
        .order_by(Posting.id))
    for journal_id, code, name in rows:
        label = f"{code} {name}" if name else code
        if label not in found[journal_id]:
            found[journal_id].append(label)
    return {journal_id: "; ".join(labels) for journal_id, labels in found.items()}


def statement(session: Session, *, organisation: Organisation, start: date, end: date,
              actor: Actor) -> Statement:
    """The organisation's postings on Shanghai days `[start, end)` between an opening and a
    closing balance; only the organisation itself or the platform may read it."""
    record = f"statement {organisation.code}"
    authorize(actor, Action.VIEW_STATEMENTS, Target(organisation_id=organisation.id,
                                                    region_code=organisation.region_code),
              record=record)
    if end <= start:
        raise BadPeriod("the period must end after it starts", record=record, field="end")
    since, until = local_midnight(start), local_midnight(end)
    accounts = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code).where(
        LedgerAccount.organisation_id == organisation.id).order_by(LedgerAccount.code)).all())
    own = set(accounts)
    opening = 0
    rows: list[tuple[Posting, Journal]] = []
    if own:
        opening = int(session.scalar(
            select(func.coalesce(func.sum(Posting.amount_fen), 0))
            .join(Journal, Journal.id == Posting.journal_id)
            .where(Posting.account_id.in_(own), Journal.posted_at < since)) or 0)
        rows = [(posting, journal) for posting, journal in session.execute(
            select(Posting, Journal).join(Journal, Journal.id == Posting.journal_id)
            .where(Posting.account_id.in_(own), Journal.posted_at >= since,
                   Journal.posted_at < until)
            .order_by(Journal.posted_at, Journal.id, Posting.id)).all()]
    others = _counterparties(session, sorted({journal.id for _, journal in rows}), own)
    running = opening
    lines: list[StatementLine] = []
    for posting, journal in rows:
        running += posting.amount_fen
        lines.append(StatementLine(
            posted_at=journal.posted_at, posted_on=journal.posted_at.astimezone(
                DISPLAY_TZ).date(), journal_id=journal.id, kind=str(journal.kind),
            reference=journal.idempotency_key, memo=journal.memo,
            account=accounts[posting.account_id], counterparty=others.get(journal.id, ""),
            debit_fen=max(posting.amount_fen, 0), credit_fen=max(-posting.amount_fen, 0),
            balance_fen=running))
    return Statement(organisation_code=organisation.code,
                     organisation_name_zh=organisation.name_zh,
                     organisation_name_en=organisation.name_en,
                     accounts=tuple(sorted(accounts.values())), start=start, end=end,
                     opening_fen=opening, lines=tuple(lines), closing_fen=running)


def yuan(fen: int) -> str:
    """Fen as a decimal string of yuan, exact: 123450 -> "1,234.50"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d}"


HEADERS = ("日期 Date", "类型 Kind", "凭证 Reference", "账户 Account", "对方 Counterparty",
           "借方 Debit (CNY)", "贷方 Credit (CNY)", "余额 Balance (CNY)", "摘要 Memo")


def _title(statement: Statement) -> str:
    return (f"对账单 Statement · {statement.organisation_name_zh} "
            f"({statement.organisation_code})")


def _period(statement: Statement) -> str:
    return f"{statement.start.isoformat()} – {statement.end.isoformat()} (exclusive)"


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as a workbook: a heading, the lines with amounts in yuan, the totals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Statement"
    sheet.append([_title(statement)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["期间 Period", _period(statement)])
    sheet.append(["账户 Accounts", ", ".join(statement.accounts)])
    sheet.append(["期初余额 Opening balance", None, None, None, None, None, None,
                  yuan(statement.opening_fen)])
    sheet.append(list(HEADERS))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for line in statement.lines:
        sheet.append([line.posted_on.isoformat(), line.kind, line.reference, line.account,
                      line.counterparty, yuan(line.debit_fen) if line.debit_fen else None,
                      yuan(line.credit_fen) if line.credit_fen else None,
                      yuan(line.balance_fen), line.memo])
    sheet.append(["合计 Totals", None, None, None, None, yuan(statement.debit_fen),
                  yuan(statement.credit_fen)])
    sheet.append(["期末余额 Closing balance", None, None, None, None, None, None,
                  yuan(statement.closing_fen)])
    for column, width in zip("ABCDEFGHI", (12, 14, 30, 16, 36, 16, 16, 16, 40), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_CJK_FONT = "STSong-Light"


def _escape(text: str) -> str:
    """Text for a reportlab paragraph, which reads a little markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _register_cjk_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))
    return _CJK_FONT


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 landscape PDF, Chinese names set in the STSong CID font."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=7, leading=9)
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=17)
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm,
                                 rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
                                 title=_title(statement))

    def cell(text: str) -> Paragraph:
        return Paragraph(_escape(text), body)

    data: list[list[object]] = [[cell(header) for header in HEADERS]]
    data.append([cell("期初余额 Opening"), "", "", "", "", "", "",
                 cell(yuan(statement.opening_fen)), ""])
    for line in statement.lines:
        data.append([cell(line.posted_on.isoformat()), cell(line.kind), cell(line.reference),
                     cell(line.account), cell(line.counterparty),
                     cell(yuan(line.debit_fen) if line.debit_fen else ""),
                     cell(yuan(line.credit_fen) if line.credit_fen else ""),
                     cell(yuan(line.balance_fen)), cell(line.memo)])
    data.append([cell("合计 Totals"), "", "", "", "", cell(yuan(statement.debit_fen)),
                 cell(yuan(statement.credit_fen)), "", ""])
    data.append([cell("期末余额 Closing"), "", "", "", "", "", "",
                 cell(yuan(statement.closing_fen)), ""])
    widths = [w * mm for w in (20, 18, 40, 24, 50, 22, 22, 24, 53)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    document.build([
        Paragraph(_escape(_title(statement)), heading),
        Paragraph(_escape(f"期间 Period: {_period(statement)} · 账户 Accounts: "
                          f"{', '.join(statement.accounts) or '—'}"), body),
        Spacer(1, 4 * mm),
        table,
    ])
    return out.getvalue()
