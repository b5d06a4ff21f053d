"""`vigil kb ...`: the knowledge base from the command line, working on the store directly."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import delete

from vigil.auth import service as auth
from vigil.auth.principal import Principal
from vigil.cli.main import _store, console
from vigil.knowledge_base.models import KnowledgeBaseVector
from vigil.knowledge_base.runtime import KnowledgeBase
from vigil.settings import Settings

kb_app: typer.Typer = typer.Typer(help="Manage the knowledge base.", no_args_is_help=True)

Space = Annotated[str, typer.Option("--space", help="Kibana space id.")]


def _system_principal() -> Principal:
    # Status counts the caller's own entries; from the CLI there is no caller.
    return Principal(user_id="", username="vigil-cli", roles=())


@kb_app.command("status")
def status(space: Space = "default") -> None:
    """Show a space's knowledge base: model, built-in collections, embeddings still to compute."""
    with _store() as database:
        kb = KnowledgeBase(database, Settings())
        report = kb.status(_system_principal(), space)
    console.print(
        f"space [bold]{space}[/bold]: embedding model [bold]{report['embedding_model_id']}[/bold] "
        f"({'available' if report['embedding_model_available'] else 'NOT available: full-text search only'}), "
        f"{report['pending_embeddings']} passages waiting for embeddings"
    )
    table = Table("collection", "version", "entries", "source")
    for collection in report["builtin_collections"]:
        table.add_row(collection["title"], collection["version"], str(collection["entries"]), collection["source"])
    console.print(table)


@kb_app.command("setup")
def setup(
    space: Space = "default",
    model: Annotated[str | None, typer.Option(help="Embedding model name (default: as configured).")] = None,
    no_builtin: Annotated[bool, typer.Option("--no-builtin", help="Do not search the built-in content.")] = False,
) -> None:
    """Load or update the built-in content and set the space's embedding model."""
    with _store() as database:
        kb = KnowledgeBase(database, Settings())
        changed = kb.install_builtin()
        kb.setup(space, model, no_builtin)
    console.print(f"knowledge base of space {space} set up; collections loaded: {', '.join(changed) or 'none changed'}")
    console.print("run `vigil kb reindex` to compute the embeddings now (the server also does it in the background)")


@kb_app.command("reindex")
def reindex(
    force: Annotated[
        bool, typer.Option("--force", help="Drop the stored embeddings of the models in use and compute them again.")
    ] = False,
) -> None:
    """Compute the embeddings every space's model still lacks (after a model change), with progress."""
    with _store() as database:
        kb = KnowledgeBase(database, Settings())
        kb.install_builtin()
        if force:
            fingerprints = kb.models_in_use()
            with database.session() as session:
                session.execute(delete(KnowledgeBaseVector).where(KnowledgeBaseVector.model_id.in_(fingerprints)))
            kb.dense.clear()
            console.print(f"dropped the stored embeddings of {', '.join(fingerprints)}")
        total = kb.pending_count()
        with Progress(
            TextColumn("embedding passages"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("embed", total=total)
            done = kb.embed_pending(progress=lambda n: progress.advance(task, n))
    console.print(f"embedded {done} passages")


@kb_app.command("search")
def search(
    query: str,
    space: Space = "default",
    user: Annotated[str | None, typer.Option(help="Search as this user (their private entries too).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, lexical or dense.")] = "hybrid",
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
) -> None:
    """Retrieve passages as the assistant would, to check what the knowledge base answers."""
    if mode not in ("hybrid", "lexical", "dense"):
        console.print("[red]error:[/red] --mode is hybrid, lexical or dense")
        raise typer.Exit(code=1)
    with _store() as database:
        principal = _system_principal()
        if user is not None:
            with database.session(readonly=True) as session:
                found = auth.get_user(session, user)
            if found is None:
                console.print(f"[red]error:[/red] user [{user}] not found")
                raise typer.Exit(code=1)
            principal = Principal(user_id=found.id, username=found.username, roles=tuple(found.roles))
        kb = KnowledgeBase(database, Settings())
        result = kb.retrieve(principal, space, query, limit=limit, mode=mode)  # type: ignore[arg-type]
    if result.note:
        console.print(f"[yellow]{result.note}[/yellow]")
    table = Table("#", "entry", "name", "source", "passage")
    for rank, passage in enumerate(result.passages, start=1):
        snippet = " ".join(passage.text.split())[:160]
        table.add_row(str(rank), passage.entry_id, passage.name, passage.source, snippet)
    console.print(table)
