"""The `scishare` command: one Typer app, a sub-app per domain."""

import typer

from scishare.billing.cli import app as billing_app
from scishare.booking.cli import app as booking_app
from scishare.catalog.cli import app as catalog_app
from scishare.catalog.service import sync_reference_data
from scishare.core.cli import cli_session
from scishare.core.migrations import upgrade
from scishare.core.settings import get_settings
from scishare.demo.cli import app as demo_app
from scishare.knowledge.cli import app as knowledge_app
from scishare.matching.cli import eval_app, match_command, matching_app

app = typer.Typer(help="SciShare: share large research instruments.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(demo_app, name="demo")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(eval_app, name="eval")
app.command("match")(match_command)
app.add_typer(matching_app, name="matching")
app.add_typer(booking_app, name="booking")
app.add_typer(billing_app, name="billing")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Run migrations to head and load the reference data shipped in the package."""
    url = get_settings().database_url
    upgrade(url)
    with cli_session() as session:
        classes, techniques = sync_reference_data(session)
    typer.echo(f"database at head: {url} ({classes} classes, {techniques} techniques)")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, reload: bool = False) -> None:
    """Serve the web app and API."""
    import uvicorn

    uvicorn.run("scishare.web.app:create_app", factory=True, host=host, port=port,
                reload=reload)
