"""The `vigil` program's entry point: `vigil ingest` starts without importing the rest of Vigil.

The full command set (vigil.cli.main) imports the web application, SQLAlchemy, the knowledge
base and the models: about 1.5 CPU seconds before anything runs, as long as ingesting 100k
documents takes the server. `vigil ingest` needs none of it, so it gets an app of its own.
"""

from __future__ import annotations

import sys

import typer


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "ingest":
        from vigil.cli.ingest import ingest

        app = typer.Typer(add_completion=False)
        app.callback()(_group)  # keeps `ingest` a sub-command, as in the full app
        app.command("ingest")(ingest)
        app()
        return
    from vigil.cli.main import app as full_app

    full_app()


def _group() -> None:
    """Vigil: a self-hosted AI assistant for security and observability teams."""
