"""`scishare demo …`."""

import typer

app = typer.Typer(help="Demo data.", no_args_is_help=True)
