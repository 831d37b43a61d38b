"""`scishare booking …`: the jobs the booking domain needs run on a schedule."""

from __future__ import annotations

from datetime import datetime

import typer

from scishare.booking.service import sweep_no_shows
from scishare.core.cli import cli_session, fail
from scishare.core.clock import utcnow

app = typer.Typer(help="Reservations and sample-testing orders.", no_args_is_help=True)


@app.command("sweep-no-shows")
def sweep_no_shows_command(
        at: str = typer.Option("", "--at", help="Sweep as of this ISO moment with a time "
                                                "zone (default: now)."),
) -> None:
    """Mark confirmed reservations not started within their grace period as no-shows (run
    it every few minutes, e.g. from cron)."""
    now = utcnow()
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            fail([f"--at: {at!r} is not an ISO date and time"])
        if now.tzinfo is None:
            fail([f"--at: {at!r} has no time zone (add +08:00 or Z)"])
    with cli_session() as session:
        marked = sweep_no_shows(session, now=now)
        for reservation in marked:
            typer.echo(f"no-show: reservation {reservation.id} on "
                       f"{reservation.instrument.exchange_id} from "
                       f"{reservation.starts_at.isoformat()}")
    typer.echo(f"{len(marked)} marked as no-show")
