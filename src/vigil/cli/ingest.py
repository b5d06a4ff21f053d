"""`vigil ingest`: load NDJSON or CSV into the data plane through `_bulk` (or straight into the store).

By default it sends batches to a running server's `_bulk` endpoint: the server holds the DuckDB
file, and DuckDB allows one writing process. `--direct` writes the file itself (server stopped).
Per-item failures are listed at the end and make the exit code 1; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import httpx
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

DEFAULT_URL = "http://127.0.0.1:5601"
BULK_CONTENT_TYPE = "application/x-ndjson"
MAX_SHOWN_FAILURES = 20

console = Console(highlight=False, stderr=True)


@dataclass
class Batch:
    """NDJSON action/source pairs and, per item, the input line it came from."""

    body: bytearray = field(default_factory=bytearray)
    lines: list[int] = field(default_factory=list)
    consumed: int = 0  # input bytes behind this batch (for the progress bar)


@dataclass
class Failure:
    line: int
    status: int
    error_type: str
    reason: str


@dataclass
class Outcome:
    sent: int = 0
    failures: list[Failure] = field(default_factory=list)


class IngestError(Exception):
    """The input or the server cannot be used at all (exit code 2)."""


# ---- reading ------------------------------------------------------------------------------------
def _is_bulk_action(line: bytes) -> bool:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) in ("index", "create", "delete", "update")
        and isinstance(next(iter(value.values())), dict)
    )


def ndjson_batches(stream: IO[bytes], index: str | None, batch_size: int) -> Iterator[Batch]:
    """Plain documents (one per line, `create` into `index`) or bulk action/source pairs."""
    action = b'{"create":{}}\n'
    batch = Batch()
    bulk_format: bool | None = None
    pending_action: bytes | None = None
    for number, raw in enumerate(stream, start=1):
        batch.consumed += len(raw)
        line = raw.strip()
        if not line:
            continue
        if bulk_format is None:
            bulk_format = _is_bulk_action(line)
            if not bulk_format and index is None:
                raise IngestError("plain NDJSON (one document per line) needs --index")
        if bulk_format:
            if pending_action is None:
                if b'"delete"' in line[:12] and _is_bulk_action(line):
                    batch.body += line + b"\n"  # delete has no source line
                    batch.lines.append(number)
                else:
                    pending_action = line
                    continue
            else:
                batch.body += pending_action + b"\n" + line + b"\n"
                batch.lines.append(number - 1)
                pending_action = None
        else:
            batch.body += action + line + b"\n"
            batch.lines.append(number)
        if len(batch.lines) >= batch_size:
            yield batch
            batch = Batch()
    if pending_action is not None:
        raise IngestError("the last bulk action has no source line")
    if batch.lines or batch.consumed:
        yield batch


def _csv_value(text: str) -> Any:
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text) if text.lstrip("-").isdigit() else float(text) if _looks_numeric(text) else text
    except ValueError:
        return text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "infinity", "-infinity")


def csv_batches(stream: IO[bytes], index: str, batch_size: int) -> Iterator[Batch]:
    """CSV with a header row: one document per row, values typed (integer, float, true/false)."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        raise IngestError("the CSV file has no header row")
    action = b'{"create":{}}\n'
    batch = Batch()
    for row in reader:
        if not row:
            continue
        document = {name: _csv_value(value) for name, value in zip(header, row, strict=False)}
        document = {name: value for name, value in document.items() if value is not None and name}
        batch.body += action + orjson.dumps(document) + b"\n"
        batch.lines.append(reader.line_num)
        batch.consumed = 0
        if len(batch.lines) >= batch_size:
            yield batch
            batch = Batch()
    if batch.lines:
        yield batch


# ---- sending ------------------------------------------------------------------------------------
def _failures(batch: Batch, answer: bytes) -> list[Failure]:
    if answer.startswith(b'{"errors":false'):
        return []  # nothing failed: no need to read every item of the answer
    response = orjson.loads(answer)
    failures = []
    for line, item in zip(batch.lines, response.get("items", []), strict=False):
        ((_, result),) = item.items()
        error = result.get("error")
        if error:
            failures.append(Failure(line, result.get("status", 0), error.get("type", ""), error.get("reason", "")))
    return failures


class HttpSink:
    def __init__(self, url: str, auth: tuple[str, str] | None, api_key: str | None, index: str | None) -> None:
        headers = {"Content-Type": BULK_CONTENT_TYPE}
        if api_key:
            headers["Authorization"] = f"ApiKey {api_key}"
        self.client = httpx.Client(base_url=url.rstrip("/"), auth=auth, headers=headers, timeout=300)
        self.path = f"/{index}/_bulk" if index else "/_bulk"

    def send(self, batch: Batch) -> list[Failure]:
        try:
            response = self.client.post(self.path, content=bytes(batch.body))
        except httpx.HTTPError as exc:
            raise IngestError(f"cannot reach {self.client.base_url}: {exc}") from exc
        if response.status_code != 200:
            try:
                reason = response.json()["error"]["reason"]
            except (ValueError, KeyError, TypeError):
                reason = response.text[:500]
            raise IngestError(f"the server refused the batch (HTTP {response.status_code}): {reason}")
        return _failures(batch, response.content)

    def close(self) -> None:
        self.client.close()


class DirectSink:
    """Writes the DuckDB file in this process (the server must not be running)."""

    def __init__(self, path: Path, index: str | None) -> None:
        import duckdb

        from vigil.dataplane.store import DataStore

        try:
            self.store = DataStore.open(path)
        except duckdb.IOException as exc:
            raise IngestError(f"cannot open {path} (is the server running? use the HTTP mode): {exc}") from exc
        self.index = index

    def send(self, batch: Batch) -> list[Failure]:
        from vigil.dataplane.bulk import run_bulk
        from vigil.errors import VigilError

        try:
            answer = run_bulk(self.store, bytes(batch.body), self.index, None, time.monotonic())
        except VigilError as exc:
            raise IngestError(exc.message) from exc
        return _failures(batch, answer)

    def close(self) -> None:
        self.store.close()


def run_ingest(batches: Iterator[Batch], sink: HttpSink | DirectSink, total_bytes: int | None, quiet: bool) -> Outcome:
    """Send every batch (two in flight, so reading overlaps the server's work) with a progress bar."""
    outcome = Outcome()
    progress = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[docs]:,} docs  {task.fields[rate]:,.0f} docs/s"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    )
    started = time.monotonic()
    with progress, ThreadPoolExecutor(max_workers=2) as pool:
        task = progress.add_task("ingest", total=total_bytes, docs=0, rate=0.0)
        in_flight: list[tuple[Future[list[Failure]], Batch]] = []

        def settle(future: Future[list[Failure]], batch: Batch) -> None:
            outcome.failures.extend(future.result())
            outcome.sent += len(batch.lines)
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, advance=batch.consumed, docs=outcome.sent, rate=outcome.sent / elapsed)

        for batch in batches:
            if not batch.lines:
                progress.update(task, advance=batch.consumed)
                continue
            in_flight.append((pool.submit(sink.send, batch), batch))
            if len(in_flight) >= 2:
                settle(*in_flight.pop(0))
        for future, batch in in_flight:
            settle(future, batch)
    return outcome


def ingest(
    file: Annotated[str, typer.Argument(help="NDJSON or CSV file, or - for standard input.")],
    index: Annotated[
        str | None, typer.Option(help="Target index (required unless the NDJSON is in bulk format).")
    ] = None,
    format: Annotated[
        Literal["ndjson", "csv"] | None, typer.Option("--format", help="Input format (default: from the extension).")
    ] = None,
    url: Annotated[str, typer.Option(envvar="VIGIL_URL", help="Vigil server.")] = DEFAULT_URL,
    user: Annotated[str | None, typer.Option(envvar=["VIGIL_USER", "VIGIL_ADMIN_USERNAME"], help="Username.")] = None,
    password: Annotated[
        str | None, typer.Option(envvar=["VIGIL_PASSWORD", "VIGIL_ADMIN_PASSWORD"], help="Password.")
    ] = None,
    api_key: Annotated[str | None, typer.Option(envvar="VIGIL_API_KEY", help="Encoded API key.")] = None,
    direct: Annotated[
        bool, typer.Option("--direct", help="Write the DuckDB file directly (the server must be stopped).")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Documents per _bulk request.")] = 10000,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Load NDJSON (bulk action/source pairs, or one document per line) or CSV into an index."""
    fmt = format or ("csv" if file.lower().endswith(".csv") else "ndjson")
    if fmt == "csv" and not index:
        console.print("[red]error:[/red] CSV input needs --index")
        raise typer.Exit(code=2)
    stream: IO[bytes]
    if file == "-":
        stream, total = sys.stdin.buffer, None
    else:
        path = Path(file)
        if not path.is_file():
            console.print(f"[red]error:[/red] no such file: {file}")
            raise typer.Exit(code=2)
        stream, total = path.open("rb"), path.stat().st_size
    sink: HttpSink | DirectSink | None = None
    started = time.monotonic()
    try:
        if direct:
            from vigil.settings import Settings

            sink = DirectSink(Settings().resolved_data_store_path, index)
        else:
            sink = HttpSink(url, (user, password or "") if user else None, api_key, index)
        batches = (
            csv_batches(stream, index or "", batch_size) if fmt == "csv" else ndjson_batches(stream, index, batch_size)
        )
        outcome = run_ingest(batches, sink, total if fmt == "ndjson" else None, quiet)
    except IngestError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    finally:
        if sink is not None:
            sink.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    elapsed = time.monotonic() - started
    failed = len(outcome.failures)
    rate = outcome.sent / elapsed if elapsed > 0 else 0.0
    console.print(
        f"{outcome.sent - failed:,} documents ingested, {failed:,} failed in {elapsed:.1f}s ({rate:,.0f} docs/s)"
    )
    for failure in outcome.failures[:MAX_SHOWN_FAILURES]:
        console.print(
            f"  line {failure.line}: {failure.status} {failure.error_type}: {failure.reason}",
            markup=False,
            soft_wrap=True,
        )
    if failed > MAX_SHOWN_FAILURES:
        console.print(f"  ... and {failed - MAX_SHOWN_FAILURES:,} more")
    if failed:
        raise typer.Exit(code=1)
