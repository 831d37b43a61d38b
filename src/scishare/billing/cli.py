"""`scishare billing …`: statements of an organisation's ledger accounts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from scishare.accounts.service import SYSTEM, get_organisation_by_code
from scishare.billing.service import statement, statement_pdf, statement_xlsx
from scishare.core.cli import cli_session, fail

app = typer.Typer(help="Fees, vouchers, settlement and the ledger.", no_args_is_help=True)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail([f"{option}: {text!r} is not a date (YYYY-MM-DD)"])
        raise AssertionError("unreachable") from None


@app.command("statement")
def statement_command(
        org_code: str = typer.Argument(..., help="The organisation's code."),
        start: str = typer.Option(..., "--from", help="First Shanghai day, YYYY-MM-DD."),
        end: str = typer.Option(..., "--to", help="Day after the last, YYYY-MM-DD "
                                                  "(exclusive)."),
        out: Path = typer.Option(..., "--out", dir_okay=False, writable=True,
                                 help="File to write: .xlsx or .pdf."),
) -> None:
    """Write an organisation's ledger statement for [from, to) as XLSX or PDF."""
    suffix = out.suffix.lower()
    if suffix not in {".xlsx", ".pdf"}:
        fail([f"{out}: unsupported file type {suffix or '(none)'}: use .xlsx or .pdf"])
    first, after = _day(start, "--from"), _day(end, "--to")
    with cli_session() as session:
        organisation = get_organisation_by_code(session, org_code)
        found = statement(session, organisation=organisation, start=first, end=after,
                          actor=SYSTEM)
    out.write_bytes(statement_xlsx(found) if suffix == ".xlsx" else statement_pdf(found))
    typer.echo(f"{out}: {len(found.lines)} lines, opening {found.opening_fen} fen, "
               f"closing {found.closing_fen} fen")
