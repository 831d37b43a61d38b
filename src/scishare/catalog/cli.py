"""`scishare catalog …`: statistics, import and export."""

import json

import typer

from scishare.catalog.service import catalog_stats
from scishare.core.cli import cli_session

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
