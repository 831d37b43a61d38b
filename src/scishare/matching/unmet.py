"""The unmet-demand monitor: what enterprises asked for and did not get, for the bureau.

Every need asked through `service.ask` is a `NeedRecord` with its best offer's score. A need is
unmet when that score falls below a threshold (or nothing was offered at all). Officers see
counts by month and by technique, industry and region, within the region they oversee, and can
download the same table as XLSX.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.core.clock import to_display
from scishare.matching.errors import BadNeed
from scishare.matching.models import NeedRecord
from scishare.matching.schemas import UnmetReport, UnmetRow
from scishare.matching.service import UNMET_THRESHOLD
from scishare.regions.service import get_region, region_and_descendants

RECORD = "unmet demand"


def unmet_report(session: Session, *, actor: Actor, region_code: str, since: datetime,
                 until: datetime, threshold: float = UNMET_THRESHOLD) -> UnmetReport:
    """Needs asked in [since, until) about `region_code` (and the regions below it), by month,
    technique, industry and region; the officer must oversee that region."""
    get_region(session, region_code)
    authorize(actor, Action.VIEW_REGION_REPORTS, Target(region_code=region_code), record=RECORD)
    if not 0 < threshold < 1:
        raise BadNeed("the threshold lies between 0 and 1", record=RECORD, field="threshold")
    if since >= until:
        raise BadNeed("the period ends before it starts", record=RECORD, field="since")
    regions = region_and_descendants(session, region_code)
    records = session.scalars(select(NeedRecord).where(
        NeedRecord.asked_at >= since, NeedRecord.asked_at < until,
        NeedRecord.region_code.in_(regions)).order_by(NeedRecord.asked_at))
    needs: Counter[tuple[str, str | None, str | None, str | None]] = Counter()
    unmet: Counter[tuple[str, str | None, str | None, str | None]] = Counter()
    by_period: dict[str, list[int]] = {}
    for record in records:
        period = to_display(record.asked_at).strftime("%Y-%m")
        key = (period, record.technique_code if record.offer_count else None,
               record.industry_code, record.region_code)
        missed = record.offer_count == 0 or record.best_score < threshold
        needs[key] += 1
        unmet[key] += missed
        totals = by_period.setdefault(period, [0, 0])
        totals[0] += 1
        totals[1] += missed
    rows = [UnmetRow(period=key[0], technique_code=key[1], industry_code=key[2],
                     region_code=key[3], needs=count, unmet=unmet[key])
            for key, count in needs.items() if unmet[key]]
    rows.sort(key=lambda r: (r.period, -r.unmet, r.technique_code or "", r.region_code or ""))
    return UnmetReport(rows=rows, threshold=threshold,
                       by_period={p: (v[0], v[1]) for p, v in sorted(by_period.items())})


def unmet_needs(session: Session, *, actor: Actor, region_code: str, since: datetime,
                until: datetime, threshold: float = UNMET_THRESHOLD,
                limit: int = 200) -> list[NeedRecord]:
    """The unmet needs themselves (their words), newest first."""
    get_region(session, region_code)
    authorize(actor, Action.VIEW_REGION_REPORTS, Target(region_code=region_code), record=RECORD)
    regions = region_and_descendants(session, region_code)
    return list(session.scalars(select(NeedRecord).where(
        NeedRecord.asked_at >= since, NeedRecord.asked_at < until,
        NeedRecord.region_code.in_(regions),
        or_(NeedRecord.offer_count == 0, NeedRecord.best_score < threshold))
        .order_by(NeedRecord.asked_at.desc()).limit(limit)))


def unmet_xlsx(report: UnmetReport, *, region_code: str) -> bytes:
    """The report as a workbook: the table, the monthly totals and a chart of them."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "未满足需求 Unmet"
    sheet.append(["月份 Month", "技术 Technique", "行业 Industry", "地区 Region",
                  "需求数 Needs", "未满足 Unmet"])
    for row in report.rows:
        sheet.append([row.period, row.technique_code or "", row.industry_code or "",
                      row.region_code or "", row.needs, row.unmet])
    months = book.create_sheet("按月 By month")
    months.append(["月份 Month", "需求数 Needs", "未满足 Unmet"])
    for period, (asked, missed) in report.by_period.items():
        months.append([period, asked, missed])
    if report.by_period:
        chart = BarChart()
        chart.title = f"未满足需求 Unmet demand {region_code}"
        chart.y_axis.title = "needs"
        data = Reference(months, min_col=2, max_col=3, min_row=1,
                         max_row=len(report.by_period) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(months, min_col=1, min_row=2,
                                       max_row=len(report.by_period) + 1))
        months.add_chart(chart, "E2")
    meta = book.create_sheet("说明 About")
    meta.append(["region", region_code])
    meta.append(["threshold", report.threshold])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
