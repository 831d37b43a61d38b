"""`scishare knowledge …`: import (reload) the seed and look around the graph."""

from pathlib import Path

import typer

from scishare.accounts.service import SYSTEM
from scishare.core.cli import cli_session, fail
from scishare.core.clock import utcnow
from scishare.knowledge.errors import KnowledgeImportRejected
from scishare.knowledge.models import NodeKind
from scishare.knowledge.schemas import NodeKey
from scishare.knowledge.service import explanation_path, import_seed, neighbours

app = typer.Typer(help="The knowledge graph.", no_args_is_help=True)


def _key(text: str) -> NodeKey:
    kind, _, code = text.partition(":")
    try:
        return NodeKey(kind=NodeKind(kind), code=code)
    except ValueError:
        fail([f"{text}: write KIND:CODE with KIND one of "
              f"{', '.join(k.value for k in NodeKind)}"])
        raise


@app.command("import")
def import_(directory: Path | None = typer.Argument(
                None, help="Folder with the six seed CSVs (default: the packaged seed)."),
            force: bool = typer.Option(False, help="Load even if the content is unchanged.")
            ) -> None:
    """Load (or reload) the seed as a new version; all or nothing."""
    try:
        with cli_session() as session:
            version = import_seed(session, actor=SYSTEM, now=utcnow(), directory=directory,
                                  force=force)
    except KnowledgeImportRejected as rejected:
        fail([str(problem) for problem in rejected.problems] + [str(rejected)])
        return
    state = "loaded" if version.changed else "unchanged, still"
    typer.echo(f"knowledge seed {state} version {version.version} ({version.summary})")


@app.command()
def show(node: str = typer.Argument(..., help="KIND:CODE, e.g. property:PHASE")) -> None:
    """A node's neighbours, strongest link first."""
    with cli_session() as session:
        for n in neighbours(session, node=_key(node)):
            typer.echo(f"{n.link.value:<14}{n.weight:5.2f}  {n.node.kind.value}:{n.node.code}  "
                       f"{n.node.name_zh}")


@app.command()
def path(start: str, goal: str) -> None:
    """The shortest chain of links between two nodes."""
    with cli_session() as session:
        nodes = explanation_path(session, start=_key(start), goal=_key(goal))
    typer.echo(" -> ".join(n.code if n.kind in (NodeKind.TECHNIQUE, NodeKind.STANDARD)
                           else n.name_zh for n in nodes) or "no path")
