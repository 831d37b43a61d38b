"""`scishare catalog …`: statistics, import and export."""

import io
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from scishare.accounts.service import SYSTEM
from scishare.catalog.errors import CatalogImportRejected
from scishare.catalog.exporting import Format, catalog_template, write_catalog
from scishare.catalog.importing import import_catalog
from scishare.catalog.service import catalog_stats
from scishare.core.cli import cli_session, fail
from scishare.core.clock import utcnow

app = typer.Typer(help="The instrument catalog.", no_args_is_help=True)


@app.command()
def stats(region: str | None = typer.Option(None, help="Only this region and below it."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Counts of the catalog: instruments, owners, shares by type, value, classes, regions."""
    with cli_session() as session:
        figures = catalog_stats(session, region_code=region)
    if as_json:
        typer.echo(json.dumps(figures.model_dump(), ensure_ascii=False))
        return
    typer.echo(f"instruments    {figures.instruments}")
    typer.echo(f"organisations  {figures.organisations}")
    typer.echo(f"total value    CNY {figures.total_value_fen / 100:,.2f}")
    for org_type, count in figures.instruments_by_org_type.items():
        share = count / figures.instruments if figures.instruments else 0
        typer.echo(f"  {org_type:<14}{count:>8}  {share:6.1%}")
    typer.echo("by major class " + json.dumps(figures.instruments_by_major_class))
    typer.echo("by region      " + json.dumps(figures.instruments_by_region))


_FORMATS: dict[str, Format] = {".csv": "csv", ".xlsx": "xlsx"}


def _format_of(file: Path) -> Format:
    fmt = _FORMATS.get(file.suffix.lower())
    if fmt is None:
        fail([f"{file}: unsupported file type {file.suffix or '(none)'}: use .csv or .xlsx"])
        raise AssertionError("unreachable")
    return fmt


@app.command("import")
def import_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                            help="A .csv (UTF-8) or .xlsx catalog file.")
                ) -> None:
    """Add every instrument in a catalog file, or none: problems are listed, one per line."""
    source = file.read_bytes()
    console = Console(stderr=True)
    # The bar only draws on a terminal; piped stderr keeps just the problem lines.
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task("checking rows", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, description="storing instruments", completed=done, total=total)

        with cli_session() as session:
            try:
                report = import_catalog(session, source, filename=file.name, actor=SYSTEM,
                                        now=utcnow(), progress=progress)
            except CatalogImportRejected as rejected:
                bar.stop()
                fail([str(problem) for problem in rejected.problems])
    typer.echo(f"imported {report.instruments} instruments with {report.service_items} "
               f"service items for {len(report.organisation_codes)} organisations")


@app.command("export")
def export_file(file: Path = typer.Argument(..., dir_okay=False,
                                            help="Where to write: FILE.csv or FILE.xlsx."),
                region: str | None = typer.Option(None, help="Only this region and below it."),
                organisation: str | None = typer.Option(None, help="Only this organisation "
                                                        "(its code).")) -> None:
    """Write the catalog in the import template; `import` takes the file back unchanged."""
    fmt = _format_of(file)
    out = io.BytesIO()  # written whole at the end, so a failed export leaves no partial file
    with cli_session() as session:
        count = write_catalog(session, out, fmt=fmt, region_code=region,
                              organisation_code=organisation)
    file.write_bytes(out.getvalue())
    typer.echo(f"exported {count} instruments to {file}")


@app.command("template")
def template_file(file: Path = typer.Argument(..., dir_okay=False,
                                              help="Where to write: FILE.csv or FILE.xlsx.")
                  ) -> None:
    """Write an empty catalog template (the header row); docs/catalog-import.md explains it."""
    file.write_bytes(catalog_template(_format_of(file)))
    typer.echo(f"template written to {file}")
