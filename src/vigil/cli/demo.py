"""`vigil demo load`: fill a running Vigil with the demo data set, over its HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vigil.demo.dataset import DEFAULT_DAYS, DEFAULT_SEED, counts_by_index, generate
from vigil.demo.loader import LoadError, LoadReport, add_field_rules, send_documents

DEFAULT_URL = "http://127.0.0.1:5601"

demo_app = typer.Typer(help="The demo data set.", no_args_is_help=True)
console = Console(highlight=False)


def _end_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {value}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@demo_app.command("load")
def load(
    url: Annotated[str, typer.Option(envvar="VIGIL_URL", help="Vigil server.")] = DEFAULT_URL,
    user: Annotated[str | None, typer.Option(envvar=["VIGIL_USER", "VIGIL_ADMIN_USERNAME"], help="Username.")] = None,
    password: Annotated[
        str | None, typer.Option(envvar=["VIGIL_PASSWORD", "VIGIL_ADMIN_PASSWORD"], help="Password.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="VIGIL_API_KEY", help="Encoded API key (instead of user/password).")
    ] = None,
    space: Annotated[str, typer.Option(help="Space whose alert indices receive the alerts.")] = "default",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and end give the same data.")] = DEFAULT_SEED,
    days: Annotated[int, typer.Option(min=1, max=30, help="Days of data before the end time.")] = DEFAULT_DAYS,
    end: Annotated[str | None, typer.Option(help="End of the data (ISO 8601, UTC); default: now.")] = None,
    field_rules: Annotated[
        bool, typer.Option(help="Also allow the demo's observability fields in the space's anonymization rules.")
    ] = True,
) -> None:
    """Load a week of security and observability demo data, with its alerts."""
    if not api_key and not (user and password is not None):
        console.print("[red]error:[/red] give --user and --password (or VIGIL_ADMIN_USERNAME/PASSWORD) or --api-key")
        raise typer.Exit(code=1)
    documents = generate(seed=seed, end=_end_time(end), days=days, space=space)
    headers = {"authorization": f"ApiKey {api_key}"} if api_key else {}
    auth = (user, password) if user and password is not None and not api_key else None
    report = LoadReport()
    try:
        with httpx.Client(base_url=url, auth=auth, headers=headers, timeout=120) as client:
            with Progress(
                TextColumn("loading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("documents"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("load", total=len(documents))
                send_documents(client, documents, report, lambda n: progress.advance(task, n))
            if field_rules:
                add_field_rules(client, report, space)
    except LoadError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(code=1) from exc
    except httpx.HTTPError as exc:
        console.print(f"[red]error:[/red] cannot reach {escape(url)}: {escape(str(exc))}")
        raise typer.Exit(code=1) from exc

    table = Table("index", "documents")
    for index, count in counts_by_index(documents).items():
        table.add_row(index, str(count))
    console.print(table)
    console.print(f"created {report.created}, already there {report.existing}, failed {report.failed}")
    if report.fields_added:
        console.print(f"anonymization fields allowed for the demo: {', '.join(report.fields_added)}")
    for reason in report.errors:
        console.print(f"[red]failure:[/red] {escape(reason)}")
    if report.failed:
        raise typer.Exit(code=1)
