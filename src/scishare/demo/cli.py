"""`scishare demo …`."""

import time

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from scishare.core.cli import cli_session
from scishare.demo.builder import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DemoAlreadyBuilt,
    build_demo,
    demo_present,
)

ALREADY_BUILT = ("the database already holds the demo; nothing to do. To build it afresh, point "
                 "SCISHARE_DATABASE_URL at a new database and run `scishare db upgrade` first.")

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command()
def build(
    scale: int | None = typer.Option(
        None, min=1, help="Instruments in total, spread over the demo's cities (benchmarks). "
        "Without it: the calibrated demo, 5,033 in Zhengzhou plus three smaller cities."),
    seed: int = typer.Option(DEFAULT_SEED, help="Same seed, same records."),
) -> None:
    """Build the deterministic demo region into an empty database (run `db upgrade` first)."""
    started = time.perf_counter()
    # One transaction for the whole build: a failure leaves the database as it was.
    with cli_session() as session:
        # `make demo` runs this on every start: a built demo is left alone, successfully.
        if demo_present(session):
            typer.echo(ALREADY_BUILT)
            return
        with Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as progress:
            tasks: dict[str, TaskID] = {}

            def report(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=total)
                progress.update(tasks[phase], completed=done, total=total)

            try:
                summary = build_demo(session, seed=seed, scale=scale, on_progress=report)
            except DemoAlreadyBuilt:
                # Another process built it since the check above.
                progress.stop()
                typer.echo(ALREADY_BUILT)
                return
        typer.echo("committing…")
    regions = ", ".join(f"{code}: {count:,}"
                        for code, count in summary.instruments_by_region.items())
    typer.echo(f"demo built in {time.perf_counter() - started:.1f} s (seed {summary.seed}): "
               f"{summary.instruments:,} instruments ({regions}), "
               f"{summary.organisations:,} organisations, "
               f"original value CNY {summary.total_value_fen / 100:,.0f}")
    typer.echo(f"sign in as {', '.join(summary.accounts)} with password {DEMO_PASSWORD}")
