"""chat/complete overhead, concurrent streams per worker, and the embedded model's speed.

Starts two fake OpenAI providers (`python -m vigil.testing.fake_openai`, each its own process)
and `vigil serve` (one uvicorn worker, its own process), creates a `.gen-ai` connector ("Other")
per fake through the admin API, then measures from this process:

1. Latency, one request at a time (fake: 20 tokens, no delay). Baselines: the same OpenAI
   request sent straight to the fake, non-streamed and streamed. Vigil: POST chat/complete with
   `persist: false` (auth + agent + provider client) and `persist: true` (+ the DB writes),
   non-streamed and `isStream: true`. Time-to-first-token (TTFT) is the arrival of the first
   line carrying content. "added" = Vigil - direct. Target: added p50 < 5 ms. Each row also
   gives the answering server's CPU time per call (user + system, from /proc): on a busy
   machine wall times stretch with the load, CPU times much less.
2. Concurrent streams (fake: 100 tokens, 50 ms apart): K streamed chat/complete (persist false)
   at once, for K up a ladder. The client timestamps every token (a line may carry several when
   Vigil wrote deltas that arrived together as one); the gap before a token minus the fake's
   nominal 50 ms is its "extra" delay. A step passes when every stream completes and p95 extra
   < 50 ms; the ladder stops at the first failure or after --streams-max-seconds. The same K
   streams sent straight to the fake are the baseline (client + fake alone). Also the server's
   CPU per token: in total (setting up the K turns included) and while only streaming (all
   streams open, none finished). Target: 1,000 streams.
3. The embedded model (SmolLM2-135M via llama-cpp-python): load time and tokens/s.

Usage:  .venv/bin/python bench/chat.py [--quick] [--requests N] [--ladder 100,250,...] [--skip-local]
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _chat_support import ServerProcess, exit_on_sigterm, fake_provider, raise_open_file_limit, vigil_process
from _support import Timings, machine_description, percentile
from rich.console import Console
from rich.table import Table

from vigil.settings import KIBANA_API_VERSION

console = Console(width=None if sys.stdout.isatty() else 150)

CHAT = "/api/security_ai_assistant/chat/complete"
HEADERS = {"elastic-api-version": KIBANA_API_VERSION, "kbn-xsrf": "bench"}
ADMIN = ("bench-admin", "bench-admin-password-1")
PROMPT = "Summarise the alert on host-7 in one sentence."

ADDED_P50_TARGET_MS = 5.0
STREAMS_TARGET = 1000
EXTRA_GAP_TARGET_MS = 50.0

LATENCY_TOKENS = 20
STREAM_TOKENS = 100
STREAM_TOKEN_DELAY = 0.05


# --- requests ------------------------------------------------------------------------------------


def vigil_body(connector_id: str, *, stream: bool, persist: bool) -> dict[str, Any]:
    return {
        "connectorId": connector_id,
        "persist": persist,
        "isStream": stream,
        "messages": [{"role": "user", "content": PROMPT}],
    }


def direct_body(*, stream: bool) -> dict[str, Any]:
    """What a client would send the provider itself (Vigil adds its system prompt and tools)."""
    body: dict[str, Any] = {
        "model": "fake",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": PROMPT},
        ],
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return body


def _has_content(line: bytes, sse: bool) -> bool:
    """Does this NDJSON line (Vigil) or SSE event (OpenAI) carry answer text?"""
    if not sse:
        return b'"type": "content"' in line or b'"type":"content"' in line
    # Byte search, not JSON: at 1,000 streams the client parses 20,000 events a second. The fake
    # writes compact JSON; its first chunk is the role with `"content":""`.
    at = line.find(b'"content":"')
    return at >= 0 and line[at + 11 : at + 12] != b'"'


def create_connector(client: httpx.Client, name: str, fake_base: str) -> str:
    response = client.post(
        "/api/actions/connector",
        json={
            "name": name,
            "connector_type_id": ".gen-ai",
            "config": {"apiProvider": "Other", "apiUrl": f"{fake_base}/chat/completions", "defaultModel": "fake"},
            "secrets": {"apiKey": "sk-bench"},
        },
    )
    _check(response)
    return str(response.json()["id"])


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:500]}"
        )


# --- 1. latency, one request at a time -----------------------------------------------------------


@dataclass
class Sample:
    total_ns: int
    ttft_ns: int | None = None


@dataclass
class Measured:
    total: Timings
    ttft: Timings | None
    cpu_ms: float  # CPU time of the server answering (Vigil, or the fake for direct rows) per call


def run(name: str, operation: Callable[[], Sample], args: argparse.Namespace, server: ServerProcess) -> Measured:
    """Warm-up, then args.requests timed calls (stops after args.max_seconds, at least 20)."""
    for _ in range(args.warmup):
        operation()
    total, ttft = Timings(name), Timings(name)
    gc.collect()
    gc.disable()
    deadline = time.monotonic() + args.max_seconds
    cpu_before = server.cpu_seconds()
    try:
        for i in range(args.requests):
            sample = operation()
            total.add_ns(sample.total_ns)
            if sample.ttft_ns is not None:
                ttft.add_ns(sample.ttft_ns)
            if i >= 19 and time.monotonic() > deadline:
                break
    finally:
        gc.enable()
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / total.n
    return Measured(total, ttft if ttft.n else None, cpu_ms)


def _post(client: httpx.Client, url: str, body: dict[str, Any], **kwargs: Any) -> Callable[[], Sample]:
    def operation() -> Sample:
        started = time.perf_counter_ns()
        response = client.post(url, json=body, **kwargs)
        elapsed = time.perf_counter_ns() - started
        _check(response)
        return Sample(elapsed)

    return operation


def _stream(client: httpx.Client, url: str, body: dict[str, Any], sse: bool, **kwargs: Any) -> Callable[[], Sample]:
    separator = b"\n\n" if sse else b"\n"

    def operation() -> Sample:
        first: int | None = None
        buffer = b""
        started = time.perf_counter_ns()
        with client.stream("POST", url, json=body, **kwargs) as response:
            if response.status_code != 200:
                response.read()
                _check(response)
            for chunk in response.iter_raw():
                if first is None:
                    now = time.perf_counter_ns()
                    buffer += chunk
                    *lines, buffer = buffer.split(separator)
                    if any(_has_content(line, sse) for line in lines):
                        first = now - started
        elapsed = time.perf_counter_ns() - started
        if first is None:
            raise RuntimeError(f"{url}: no content in the stream")
        return Sample(elapsed, first)

    return operation


@dataclass
class LatencyRow:
    label: str
    metric: str
    timings: Timings
    baseline: Timings | None = None
    target: bool = False
    cpu_ms: float | None = None


def measure_latency(
    vigil_server: ServerProcess, fake: ServerProcess, connector_id: str, args: argparse.Namespace
) -> list[LatencyRow]:
    rows: list[LatencyRow] = []
    with (
        httpx.Client(base_url=vigil_server.url, headers=HEADERS, auth=ADMIN, timeout=60) as vigil,
        httpx.Client(timeout=60) as direct,
    ):
        completions = f"{fake.url}/chat/completions"

        def status() -> Sample:
            started = time.perf_counter_ns()
            response = vigil.get("/api/status")
            elapsed = time.perf_counter_ns() - started
            _check(response)
            return Sample(elapsed)

        with console.status("latency: baselines"):
            status_run = run("Vigil GET /api/status (anonymous)", status, args, vigil_server)
            direct_run = run(
                "direct to fake, non-streamed", _post(direct, completions, direct_body(stream=False)), args, fake
            )
            direct_stream = run(
                "direct to fake, streamed",
                _stream(direct, completions, direct_body(stream=True), sse=True),
                args,
                fake,
            )
        direct_total, direct_ttft = direct_run.total, direct_stream.ttft
        assert direct_ttft is not None
        rows += [
            LatencyRow(status_run.total.name, "total", status_run.total, cpu_ms=status_run.cpu_ms),
            LatencyRow(direct_total.name, "total", direct_total, cpu_ms=direct_run.cpu_ms),
            LatencyRow(direct_ttft.name, "TTFT", direct_ttft),
            LatencyRow(direct_stream.total.name, "total", direct_stream.total, cpu_ms=direct_stream.cpu_ms),
        ]
        for persist in (False, True):
            label = f"Vigil persist={str(persist).lower()}"
            with console.status(f"latency: {label}"):
                answer = run(
                    f"{label}, non-streamed",
                    _post(vigil, CHAT, vigil_body(connector_id, stream=False, persist=persist)),
                    args,
                    vigil_server,
                )
                streamed = run(
                    f"{label}, streamed",
                    _stream(vigil, CHAT, vigil_body(connector_id, stream=True, persist=persist), sse=False),
                    args,
                    vigil_server,
                )
            assert streamed.ttft is not None
            rows += [
                LatencyRow(answer.total.name, "total", answer.total, direct_total, target=True, cpu_ms=answer.cpu_ms),
                LatencyRow(streamed.ttft.name, "TTFT", streamed.ttft, direct_ttft, target=True),
                LatencyRow(streamed.total.name, "total", streamed.total, direct_stream.total, cpu_ms=streamed.cpu_ms),
            ]
    return rows


LATENCY_HEADERS = ["request", "metric", "n", "p50 ms", "p95 ms", "p99 ms", "added p50", "added p95", "x direct p50"]
LATENCY_HEADERS += ["server CPU ms", "target", "verdict"]


def latency_table_rows(rows: list[LatencyRow]) -> list[list[str]]:
    out = []
    for row in rows:
        t, b = row.timings, row.baseline
        cells = [row.label, row.metric, str(t.n), f"{t.p(50):.2f}", f"{t.p(95):.2f}", f"{t.p(99):.2f}"]
        cpu = "" if row.cpu_ms is None else f"{row.cpu_ms:.2f}"
        if b is None:
            cells += ["", "", "", cpu, "", ""]
        else:
            added = t.p(50) - b.p(50)
            cells += [f"{added:+.2f}", f"{t.p(95) - b.p(95):+.2f}", f"{t.p(50) / b.p(50):.1f}x", cpu]
            if row.target:
                cells += [f"added p50 < {ADDED_P50_TARGET_MS:g}", "PASS" if added < ADDED_P50_TARGET_MS else "FAIL"]
            else:
                cells += ["", ""]
        out.append(cells)
    return out


# --- 2. concurrent streams -----------------------------------------------------------------------


@dataclass
class StreamStep:
    target: str
    k: int
    completed: int = 0
    failures: list[str] = field(default_factory=list)
    max_open: int = 0
    ttft_ms: list[float] = field(default_factory=list)
    gaps_ms: list[float] = field(default_factory=list)
    steady_gaps_ms: list[float] = field(default_factory=list)  # once every stream had its first token
    streams: list[list[float]] = field(default_factory=list)  # arrival time of each token, per stream
    seconds: float = 0.0
    timed_out: bool = False
    cpu_seconds: float = 0.0  # of the server streaming (Vigil, or the fake for direct steps)
    lines: int = 0  # content lines received: fewer than tokens when deltas were coalesced
    # Steady state: from every stream having its first token to the first stream ending, when
    # the server only forwards tokens (no turn is being set up): (time, server CPU) at each end.
    steady_from: tuple[float, float] | None = None
    steady_to: tuple[float, float] | None = None
    steady_tokens: int = 0

    @property
    def cpu_us_per_token(self) -> float:
        tokens = sum(len(times) for times in self.streams)
        return self.cpu_seconds * 1e6 / tokens if tokens else float("nan")

    @property
    def steady_cpu_us_per_token(self) -> float:
        if self.steady_from is None or self.steady_to is None or not self.steady_tokens:
            return float("nan")
        return (self.steady_to[1] - self.steady_from[1]) * 1e6 / self.steady_tokens

    def gap(self, q: float) -> float:
        return percentile(sorted(self.gaps_ms), q)

    def extra(self, q: float) -> float:
        return self.gap(q) - STREAM_TOKEN_DELAY * 1000

    def steady_extra(self, q: float) -> float:
        return percentile(sorted(self.steady_gaps_ms), q) - STREAM_TOKEN_DELAY * 1000

    def finish(self) -> None:
        if not self.streams:
            return
        all_open = max(times[0] for times in self.streams)
        if self.steady_from is not None and self.steady_to is not None:
            start, end = self.steady_from[0], self.steady_to[0]
            self.steady_tokens = sum(start < t <= end for times in self.streams for t in times)
        for times in self.streams:
            pairs = list(itertools.pairwise(times))
            self.gaps_ms.extend((b - a) * 1000 for a, b in pairs)
            self.steady_gaps_ms.extend((b - a) * 1000 for a, b in pairs if a >= all_open)

    @property
    def passed(self) -> bool:
        return (
            not self.timed_out
            and not self.failures
            and self.completed == self.k
            and self.extra(95) < EXTRA_GAP_TARGET_MS
        )


def _tokens_in(line: bytes, sse: bool) -> int:
    """The fake's tokens (`tok0 tok1 ...`) in one content line: a Vigil line may carry several
    when deltas that arrived together were written as one."""
    return line.count(b"tok") if _has_content(line, sse) else 0


async def stream_step(
    target: str, url: str, body: dict[str, Any], k: int, sse: bool, timeout: float, server: ServerProcess | None = None
) -> StreamStep:
    """K streams at once through one asyncio httpx client; timestamps every token. A line with n
    tokens counts as n tokens arriving at once: the gap before the first measures its delay, the
    others get a gap of 0, so a coalesced line never hides a late token."""
    step = StreamStep(target, k)
    separator = b"\n\n" if sse else b"\n"
    open_now = 0
    with_first_token = 0

    def mark() -> tuple[float, float]:
        return time.perf_counter(), server.cpu_seconds() if server else 0.0

    limits = httpx.Limits(max_connections=k + 10, max_keepalive_connections=k + 10)
    client_timeout = httpx.Timeout(timeout, connect=30)

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal open_now, with_first_token
        started = time.perf_counter()
        times: list[float] = []
        buffer = b""
        try:
            async with client.stream("POST", url, json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    step.failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                open_now += 1
                step.max_open = max(step.max_open, open_now)
                try:
                    async for chunk in response.aiter_raw():
                        now = time.perf_counter()
                        buffer += chunk
                        *lines, buffer = buffer.split(separator)
                        for line in lines:
                            if tokens := _tokens_in(line, sse):
                                if not times:
                                    with_first_token += 1
                                    if with_first_token == k and step.steady_to is None:
                                        step.steady_from = mark()
                                step.lines += 1
                                times.extend([now] * tokens)
                finally:
                    open_now -= 1
                    if step.steady_from is not None and step.steady_to is None:
                        step.steady_to = mark()
        except (httpx.HTTPError, OSError) as exc:
            step.failures.append(f"{type(exc).__name__}: {exc}")
            return
        if len(times) < STREAM_TOKENS:
            step.failures.append(f"{len(times)} of {STREAM_TOKENS} tokens")
            return
        step.completed += 1
        step.ttft_ms.append((times[0] - started) * 1000)
        step.streams.append(times)

    cpu_before = server.cpu_seconds() if server else 0.0
    async with httpx.AsyncClient(headers=HEADERS, auth=ADMIN, limits=limits, timeout=client_timeout) as client:
        started = time.perf_counter()
        tasks = [asyncio.create_task(one(client)) for _ in range(k)]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            step.timed_out = True
            await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                step.failures.append(repr(task.exception()))
        step.seconds = time.perf_counter() - started
    if server:
        step.cpu_seconds = server.cpu_seconds() - cpu_before
    step.finish()
    return step


def measure_streams(
    vigil_server: ServerProcess, fake: ServerProcess, connector_id: str, args: argparse.Namespace
) -> list[StreamStep]:
    nominal = STREAM_TOKENS * STREAM_TOKEN_DELAY
    vigil = (f"{vigil_server.url}{CHAT}", vigil_body(connector_id, stream=True, persist=False), False, vigil_server)
    direct = (f"{fake.url}/chat/completions", direct_body(stream=True), True, fake)
    with console.status("streams: warm-up (10 streams)"):
        asyncio.run(stream_step("warm-up", vigil[0], vigil[1], 10, vigil[2], nominal + 30))
    steps: list[StreamStep] = []
    deadline = time.monotonic() + args.streams_max_seconds
    for k in [k for k in args.ladder if k <= args.max_streams]:
        if time.monotonic() > deadline:
            console.print(f"  stopping the ladder before {k}: --streams-max-seconds reached", highlight=False)
            break
        timeout = nominal + 30 + k * 0.06  # a generous bound: setup of K turns + the stream itself
        for name, (url, body, sse, server) in (("direct", direct), ("Vigil", vigil)):
            with console.status(f"streams: {k} concurrent, {name}"):
                step = asyncio.run(stream_step(name, url, body, k, sse, timeout, server))
            steps.append(step)
            console.print(
                f"  {k:>5} {name:<6} completed {step.completed}/{k} in {step.seconds:.1f} s, "
                f"gap p95 {step.gap(95):.1f} ms, extra p95 {step.extra(95):+.1f} ms "
                f"(all open: {step.steady_extra(95):+.1f} ms over {len(step.steady_gaps_ms)} gaps), "
                f"{step.lines} lines, server CPU {step.cpu_seconds:.1f} s = {step.cpu_us_per_token:.0f} µs/token, "
                f"{step.steady_cpu_us_per_token:.0f} µs/token while only streaming"
                + (f", {len(step.failures)} failures, e.g. {step.failures[0]}" if step.failures else ""),
                highlight=False,
            )
            time.sleep(1)  # let the sockets of this step close
        if not steps[-1].passed:
            break
    return steps


STREAM_HEADERS = ["K", "to", "completed", "max open", "TTFT p50", "TTFT p95", "gap p50", "gap p95", "gap p99"]
STREAM_HEADERS += ["extra p95", "extra p95 all open", "x direct gap p95", "lines/token", "server µs/token"]
STREAM_HEADERS += ["server µs/token streaming only"]
STREAM_HEADERS += ["wall s", "verdict"]


def stream_table_rows(steps: list[StreamStep]) -> list[list[str]]:
    out = []
    by_k = {(s.k, s.target): s for s in steps}
    for s in steps:
        direct = by_k.get((s.k, "direct"))
        ratio = ""
        if s.target == "Vigil" and direct is not None and direct.gaps_ms and s.gaps_ms:
            ratio = f"{s.gap(95) / direct.gap(95):.2f}x gap"
        nan = not s.gaps_ms
        out.append(
            [
                str(s.k),
                s.target,
                f"{s.completed}/{s.k}",
                str(s.max_open),
                "" if nan else f"{percentile(sorted(s.ttft_ms), 50):.0f}",
                "" if nan else f"{percentile(sorted(s.ttft_ms), 95):.0f}",
                "" if nan else f"{s.gap(50):.1f}",
                "" if nan else f"{s.gap(95):.1f}",
                "" if nan else f"{s.gap(99):.1f}",
                "" if nan else f"{s.extra(95):+.1f}",
                f"{s.steady_extra(95):+.1f} ({len(s.steady_gaps_ms)})" if s.steady_gaps_ms else "-",
                ratio,
                "" if nan else f"{s.lines / sum(len(t) for t in s.streams):.2f}",
                "" if nan else f"{s.cpu_us_per_token:.0f}",
                "" if s.steady_cpu_us_per_token != s.steady_cpu_us_per_token else f"{s.steady_cpu_us_per_token:.0f}",
                f"{s.seconds:.1f}",
                ("PASS" if s.passed else "FAIL") if s.target == "Vigil" else ("ok" if s.passed else "FAIL"),
            ]
        )
    return out


# --- 3. embedded model ---------------------------------------------------------------------------


@dataclass
class LocalResult:
    load_seconds: float
    tokens: list[int]
    seconds: list[float]
    threads: int


def measure_local(runs: int, max_tokens: int) -> LocalResult:
    from pydantic_ai.messages import ModelRequest
    from pydantic_ai.models import ModelRequestParameters

    from vigil.llm.local import LocalModel, LocalModelOptions

    model = LocalModel(LocalModelOptions(max_tokens=max_tokens, temperature=0.0))
    started = time.perf_counter()
    runtime = model.runtime()
    load = time.perf_counter() - started
    prompt = "Write a detailed, step-by-step incident response plan for a ransomware infection on a file server."
    tokens: list[int] = []
    seconds: list[float] = []

    async def once() -> int:
        response = await model.request([ModelRequest.user_text_prompt(prompt)], None, ModelRequestParameters())
        return response.usage.output_tokens

    for _ in range(runs):
        started = time.perf_counter()
        tokens.append(asyncio.run(once()))
        seconds.append(time.perf_counter() - started)
    return LocalResult(load, tokens, seconds, int(getattr(runtime.llama, "n_threads", 0) or 0))


# --- report --------------------------------------------------------------------------------------


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in rows:
        style = "red" if row[-1] == "FAIL" else ("green" if row[-1] == "PASS" else None)
        table.add_row(*row, style=style)
    console.print(table)


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
    lines += ["| " + " | ".join(cell.strip() for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def print_profile(path: Path, limit: int = 25) -> None:
    if not path.exists():
        console.print(f"[yellow]no profile written at {path}[/yellow]")
        return
    console.print(f"[bold]Vigil's event-loop thread, top {limit} by own time[/bold] ({path})")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per latency row (200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per latency row first (20)")
    parser.add_argument("--max-seconds", type=float, default=30, help="time budget per latency row (30)")
    parser.add_argument("--max-streams", type=int, default=STREAMS_TARGET, help="top of the stream ladder (1000)")
    parser.add_argument(
        "--ladder", default="100,250,500,1000", help="concurrent stream counts to try (100,250,500,1000)"
    )
    parser.add_argument(
        "--streams-max-seconds", type=float, default=240, help="start no new ladder step after this (240)"
    )
    parser.add_argument("--skip-latency", action="store_true", help="skip the one-at-a-time latency part")
    parser.add_argument("--skip-streams", action="store_true", help="skip the concurrent streams part")
    parser.add_argument("--skip-local", action="store_true", help="skip the embedded model")
    parser.add_argument("--local-runs", type=int, default=3, help="embedded model generations (3)")
    parser.add_argument("--local-tokens", type=int, default=128, help="max tokens per generation (128)")
    parser.add_argument("--profile", type=Path, default=None, help="run Vigil under cProfile, write stats here")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 requests, streams up to 200")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args(argv)
    args.ladder = sorted({int(k) for k in args.ladder.split(",") if k.strip()})
    if args.quick:
        args.requests = min(args.requests, 50)
        args.warmup = min(args.warmup, 5)
        args.max_streams = min(args.max_streams, 200)
        args.ladder = sorted({*[k for k in args.ladder if k < 200], 200})
        args.local_runs = min(args.local_runs, 2)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    nofile = raise_open_file_limit()
    console.print(f"[bold]Chat benchmark[/bold] on {machine_description()}")
    console.print(
        f"open files {nofile}; latency: {args.requests} requests per row after {args.warmup} warm-up, one at a "
        f"time, fake {LATENCY_TOKENS} tokens without delay; streams: fake {STREAM_TOKENS} tokens "
        f"{STREAM_TOKEN_DELAY * 1000:g} ms apart, ladder {[k for k in args.ladder if k <= args.max_streams]}; "
        "one uvicorn worker; fake, Vigil and this client are three processes",
        highlight=False,
    )
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-chat-"))
    markdown: list[str] = []
    try:
        if not (args.skip_latency and args.skip_streams):
            env = {
                "VIGIL_DATA_DIR": str(workdir / "data"),
                "VIGIL_ADMIN_USERNAME": ADMIN[0],
                "VIGIL_ADMIN_PASSWORD": ADMIN[1],
                "VIGIL_CHAT_GENERATE_TITLES": "false",
                "VIGIL_LOG_LEVEL": "warning",
                # Indexing the built-in knowledge base is a one-off job at first start; here it would
                # share the server's GIL with the turns being measured.
                "VIGIL_KNOWLEDGE_BASE_AUTO_SETUP": "false",
            }
            with (
                fake_provider(workdir, LATENCY_TOKENS, 0.0) as latency_fake,
                fake_provider(workdir, STREAM_TOKENS, STREAM_TOKEN_DELAY) as stream_fake,
                vigil_process(env, workdir, profile=args.profile) as vigil,
            ):
                with httpx.Client(base_url=vigil.url, headers=HEADERS, auth=ADMIN, timeout=60) as admin:
                    latency_connector = create_connector(admin, "bench-fake-latency", latency_fake.url)
                    stream_connector = create_connector(admin, "bench-fake-streams", stream_fake.url)
                if not args.skip_latency:
                    rows = latency_table_rows(measure_latency(vigil, latency_fake, latency_connector, args))
                    title = "chat/complete latency, one request at a time (ms)"
                    print_table(title, LATENCY_HEADERS, rows)
                    markdown += [f"**{title}**\n", markdown_table(LATENCY_HEADERS, rows), ""]
                if not args.skip_streams:
                    steps = measure_streams(vigil, stream_fake, stream_connector, args)
                    rows = stream_table_rows(steps)
                    held = max((s.k for s in steps if s.target == "Vigil" and s.passed), default=0)
                    title = (
                        f"concurrent streams (ms; gap = time between consecutive content lines, nominal "
                        f"{STREAM_TOKEN_DELAY * 1000:g}; extra = gap - nominal); held: {held} "
                        f"(target {STREAMS_TARGET}: {'PASS' if held >= STREAMS_TARGET else 'FAIL'})"
                    )
                    print_table(title, STREAM_HEADERS, rows)
                    markdown += [f"**{title}**\n", markdown_table(STREAM_HEADERS, rows), ""]
            if args.profile:
                print_profile(args.profile)
        if not args.skip_local:
            with console.status("embedded model"):
                local = measure_local(args.local_runs, args.local_tokens)
            rates = sorted(t / s for t, s in zip(local.tokens, local.seconds, strict=True))
            headers = ["model", "load s", "runs", "tokens per run", "tokens/s p50", "tokens/s min", "threads"]
            rows = [
                [
                    "SmolLM2-135M-Instruct (llama-cpp-python)",
                    f"{local.load_seconds:.2f}",
                    str(len(rates)),
                    ",".join(str(t) for t in local.tokens),
                    f"{percentile(rates, 50):.0f}",
                    f"{rates[0]:.0f}",
                    str(local.threads),
                ]
            ]
            title = (
                f"embedded model: {args.local_runs} non-streamed requests of at most {args.local_tokens} tokens, "
                "temperature 0, time includes prompt processing"
            )
            print_table(title, headers, rows)
            markdown += [f"**{title}**\n", markdown_table(headers, rows), ""]
    finally:
        if args.keep:
            console.print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.markdown:
        console.print("\n".join(markdown), highlight=False, markup=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
