"""Billing: an organisation's ledger statement as JSON, XLSX or PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from scishare.accounts.service import get_organisation_by_code
from scishare.billing.schemas import StatementRead
from scishare.billing.service import statement, statement_pdf, statement_xlsx
from scishare.web.api.common import errors
from scishare.web.deps import CurrentUser, SessionDep

router = APIRouter(tags=["billing"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/billing/statements/{org_code}", summary="An organisation's ledger statement",
            response_model=StatementRead,
            responses={200: {"content": {XLSX: {}, "application/pdf": {}}},
                       **errors(401, 403, 404, 422)})
def read_statement(
        session: SessionDep, user: CurrentUser,
        org_code: Annotated[str, Path(max_length=32)],
        start: Annotated[date, Query(alias="from", description="First Shanghai day.")],
        end: Annotated[date, Query(alias="to", description="Day after the last (exclusive).")],
        fmt: Annotated[Literal["json", "xlsx", "pdf"], Query(alias="format")] = "json",
) -> StatementRead | Response:
    """Opening balance, every posting on the organisation's accounts in `[from, to)` and the
    closing balance, in fen. Only the organisation's own staff who may view statements, its
    region's bureau and platform administrators may read it."""
    organisation = get_organisation_by_code(session, org_code)
    found = statement(session, organisation=organisation, start=start, end=end,
                      actor=user.actor)
    if fmt == "json":
        return StatementRead.of(found)
    filename = f"statement-{organisation.code}-{start.isoformat()}-{end.isoformat()}.{fmt}"
    content = statement_xlsx(found) if fmt == "xlsx" else statement_pdf(found)
    return Response(content, media_type=XLSX if fmt == "xlsx" else "application/pdf",
                    headers={"Content-Disposition":
                             f"attachment; filename*=UTF-8''{quote(filename)}"})
