"""The `scishare` command: one Typer app, a sub-app per domain."""

import typer

from scishare.catalog.cli import app as catalog_app
from scishare.core.cli import db_app
from scishare.demo.cli import app as demo_app

app = typer.Typer(help="SciShare: share large research instruments.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(demo_app, name="demo")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, reload: bool = False) -> None:
    """Serve the web app and API."""
    import uvicorn

    uvicorn.run("scishare.web.app:create_app", factory=True, host=host, port=port,
                reload=reload)
