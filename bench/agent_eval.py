"""Evaluation of the investigation tools: what a turn costs, and how good generated ES|QL is.

1. Investigation tasks (34), end to end: `vigil serve` in a subprocess filled by the demo loader,
   chat/complete (`persist: false`) against the scripted fake provider, which plays a model that
   calls the tools a good model would and cites what they return. For each task: the model
   calls Vigil makes (main loop and side requests), and the prompt tokens it sends, estimated
   as characters / 4 of each request body's messages and tool schemas (the fake's own counter
   only counts words of messages). Baselines from the same run: the alerts of task 1 in
   Kibana's format (one `field,value` line per field, every alert), and the data context of
   the query writer with every field of every index instead of the relevant ones.
2. Natural language to ES|QL: 115 (question, reference query) pairs over the demo data
   (`agent_eval_questions.py`). The query writer is Vigil's own (`investigation.nl_esql`: the
   primer, the relevant metadata, the repair loop); a generated query is correct when its
   result equals the reference's (strict: the same rows, ignoring column names and order of
   columns; lenient: every reference column is among the generated columns). Models: the fake
   (scripted with the reference query, every seventh question first with a broken one: this
   checks the harness and the repair loop, not a model) and the embedded SmolLM2-135M
   (`.vigil-local`), whose score is what it is.

Usage:  .venv/bin/python bench/agent_eval.py [--quick] [--skip-local] [--local-max N] [--markdown]
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _support import machine_description, vigil_server
from agent_eval_questions import PAIRS, Pair
from rich.console import Console
from rich.table import Table

from vigil.agent.side_calls import ModelSideCalls
from vigil.agent.tools import ToolContext
from vigil.anonymization import Anonymizer
from vigil.anonymization.fields.defaults import DEFAULT_FIELDS
from vigil.auth.principal import Principal
from vigil.chat.redaction import TurnRedactor, policy_from_rules
from vigil.dataplane.store import DataStore, WriteOp
from vigil.datasource import EmbeddedDataSource
from vigil.db.engine import Database
from vigil.demo import world
from vigil.demo.dataset import default_end, generate
from vigil.demo.documents import DemoDocument
from vigil.demo.loader import DEMO_FIELD_RULES, LoadReport, add_field_rules, send_documents
from vigil.esql.executor import EsqlResult, run_esql
from vigil.investigation.access import readable_indices
from vigil.investigation.esql_runner import Parts
from vigil.investigation.nl_esql import obtain_result
from vigil.llm.factory import build_model
from vigil.settings import KIBANA_API_VERSION, Settings
from vigil.testing.fake_openai import FakeOpenAI, RecordedRequest, Step, computed, reply, tool_call, tool_calls

console = Console(width=None if sys.stdout.isatty() else 160)
HEADERS = {"elastic-api-version": KIBANA_API_VERSION, "kbn-xsrf": "bench"}
ADMIN = ("eval-admin", "eval-admin-password-1")
CHAT = "/api/security_ai_assistant/chat/complete"
CHARS_PER_TOKEN = 4
_REFERENCE = re.compile(r"\{reference\([A-Za-z0-9_-]+\)\}")


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def request_tokens(request: RecordedRequest) -> int:
    body = request.body
    return tokens(json.dumps(body.get("messages", []))) + tokens(json.dumps(body.get("tools", [])))


# --- part 1: investigation tasks ---------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    category: str
    question: str
    # What the model does, one entry per main-loop request: a tool call (name, args), several at
    # once (a list of them), or None for the final answer citing what the tools returned.
    moves: tuple[Any, ...]
    # Queries the side writer answers with, in order (broken ones exercise the repair loop).
    queries: tuple[str, ...] = ()
    data: dict[str, Any] | None = None


def _pair(question_start: str) -> Pair:
    return next(p for p in PAIRS if p.question.startswith(question_start))


def _nl(question_start: str, *, broken_first: bool = False, given: bool = False) -> Task:
    pair = _pair(question_start)
    if given:
        args = {"question": pair.question, "query": pair.reference}
        return Task("ES|QL (query given)", pair.question, (("natural_language_esql", args), None))
    queries = (pair.reference.replace("STATS", "STAT", 1), pair.reference) if broken_first else (pair.reference,)
    category = "ES|QL (repaired)" if broken_first else "ES|QL"
    return Task(category, pair.question, (("natural_language_esql", {"question": pair.question}), None), queries)


def _chart(question: str, title: str, pair_start: str) -> Task:
    pair = _pair(pair_start)
    return Task("chart", question, (("create_chart", {"title": title, "question": question}), None), (pair.reference,))


SWIMLANE_EVENT = {
    "kibana.alert.uuid": "eval-alert-1",
    "kibana.alert.rule.name": "Suspicious PowerShell Encoded Command",
    "kibana.alert.rule.threat.technique.id": "T1059",
    "event.category": "process",
    "process.name": "powershell.exe",
    "process.args": "-nop -w hidden -enc SQBFAFgA",
    "host.name": "wks-fin-01",
    "user.name": "alice.nguyen",
    "message": "Process powershell.exe started by alice.nguyen on wks-fin-01",
}
OPEN_ALERTS = ("open_and_acknowledged_alerts", {})


def tasks() -> list[Task]:
    kb = "knowledge_base_retrieval"
    return [
        Task("alerts", "what are my most critical open alerts and what should I do first?", (OPEN_ALERTS, None)),
        Task("alerts", "How many alerts do I have by severity and status?", (("alert_counts", {}), None)),
        Task(
            "alerts",
            "Give me an overview of today's alerts and which to handle first",
            ([("alert_counts", {}), OPEN_ALERTS], None),
        ),
        Task(
            "alerts",
            "Are there open observability alerts?",
            (("open_and_acknowledged_alerts", {"source": "observability"}), None),
        ),
        Task("alerts", "Which of my open alerts involve lateral movement?", (OPEN_ALERTS, None)),
        Task("alerts", "Summarize my top 10 alerts", (("open_and_acknowledged_alerts", {"size": 10}), None)),
        Task("alerts", "How many alerts did we get this week?", (("alert_counts", {"hours": 168}), None)),
        _nl("How many error log lines did the checkout"),
        _nl("Which service logged the most errors"),
        _nl("How many failed SSH logins were there on bastion-01"),
        _nl("Which source IP had the most failed logins"),
        _nl("Which processes ran on wks-fin-01"),
        _nl("Which hosts resolved cdn-update"),
        _nl("Which host had the highest CPU"),
        _nl("How many open critical alerts"),
        _nl("How many alerts per MITRE"),
        _nl("Which services had APM alerts"),
        _nl("Which users logged in successfully from", broken_first=True),
        _nl("What command line did PsExec", broken_first=True),
        _nl("Number of errors per service in the last 24", broken_first=True),
        _nl("How many times did powershell.exe run", given=True),
        _nl("Which user ran vssadmin.exe", given=True),
        _chart(
            "chart the error count for the checkout service over the last 24 hours",
            "Checkout errors per hour",
            "Error count per hour for the checkout",
        ),
        _chart("chart failed logins per hour on bastion-01", "Failed logins on bastion-01", "Failed logins per hour"),
        _chart("chart the alerts per day this week", "Alerts per day", "Alerts per day over"),
        _chart("chart the badcdn DNS queries per hour", "Queries to badcdn per hour", "Queries per hour to the badcdn"),
        Task(
            "knowledge",
            "What is MITRE technique T1003.001 and how do I detect it?",
            ((kb, {"query": "T1003.001"}), None),
        ),
        Task("knowledge", "How do I mitigate data encrypted for impact?", ((kb, {"query": "T1486 mitigation"}), None)),
        Task("alert context", "Summarise the attached alert", (None,), data=SWIMLANE_EVENT),
        Task(
            "alert context",
            "Give me triage steps for the attached alert with MITRE ATT&CK",
            ((kb, {"query": "T1059.001 PowerShell"}), None),
            data=SWIMLANE_EVENT,
        ),
        Task(
            "multi-step",
            "Investigate the brute force on bastion-01",
            (OPEN_ALERTS, ("natural_language_esql", {"question": "failed logins per user on bastion-01"}), None),
            (_pair("How many failed logins per user on bastion-01").reference,),
        ),
        Task(
            "multi-step",
            "Is the checkout incident related to a security alert? Show me the errors.",
            (
                [("alert_counts", {}), ("natural_language_esql", {"question": "checkout errors per hour today"})],
                ("create_chart", {"title": "Checkout errors", "question": "checkout errors per hour today"}),
                None,
            ),
            (_pair("Error count per hour for the checkout").reference,) * 2,
        ),
        Task("no tools", "What is ES|QL, in two sentences?", (None,)),
        Task("no tools", "What time is it?", (("current_time", {}), None)),
    ]


class Router:
    """The fake provider's behaviour for one task: main-loop requests follow the task's moves,
    side requests (the query writer: no tools offered) get the task's queries in order."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.moves = list(task.moves)
        self.queries = list(task.queries)

    def __call__(self, request: RecordedRequest) -> Step:
        if "tools" not in request.body:
            query = self.queries.pop(0) if self.queries else "FROM nowhere"
            return reply(f"```esql\n{query}\n```")
        move = self.moves.pop(0) if self.moves else None
        if move is None:
            tool_text = " ".join(m["content"] for m in request.body["messages"] if m["role"] == "tool")
            cited = " ".join(dict.fromkeys(_REFERENCE.findall(tool_text + request.body["messages"][-1]["content"])))
            return reply(f"Here is what I found and what to do next. {cited}".strip())
        if isinstance(move, list):
            return tool_calls(*move)
        return tool_call(move[0], move[1])


@dataclass
class TaskResult:
    task: Task
    calls: int
    side_calls: int
    prompt_tokens: int
    largest_request: int
    ok: bool
    citations: int
    alerts_tool_tokens: int = 0


def run_task(client: httpx.Client, fake: FakeOpenAI, connector_id: str, task: Task) -> TaskResult:
    fake.reset()
    router = Router(task)
    fake.script(*[computed(router) for _ in range(12)])
    message: dict[str, Any] = {"role": "user", "content": task.question}
    if task.data:
        message["data"] = task.data
    response = client.post(CHAT, json={"connectorId": connector_id, "persist": False, "messages": [message]})
    if response.status_code != 200:
        console.print(f"[red]task failed[/red] {task.question}: {response.status_code} {response.text[:300]}")
    requests = fake.chat_requests
    sizes = [request_tokens(r) for r in requests]
    alerts_text = [
        m["content"]
        for m in (requests[-1].body["messages"] if requests else [])
        if m["role"] == "tool" and 'source="open_and_acknowledged_alerts"' in m["content"]
    ]
    answer = response.json().get("data", "") if response.status_code == 200 else ""
    return TaskResult(
        task,
        len(requests),
        sum(1 for r in requests if "tools" not in r.body),
        sum(sizes),
        max(sizes, default=0),
        response.status_code == 200 and not answer.startswith("Tool "),
        len(_REFERENCE.findall(answer)),
        tokens(alerts_text[0]) if alerts_text else 0,
    )


def kibana_alerts_baseline(documents: Sequence[DemoDocument], end: datetime) -> int:
    """Tokens of task 1's alerts in Kibana's shape: a JSON list, one `field,value` line per allowed
    field of each alert (the same alerts, the same anonymization)."""
    policy = policy_from_rules([(f.field, f.allowed, f.anonymized) for f in DEFAULT_FIELDS])
    cutoff = end - timedelta(hours=24)
    alerts = [
        d.source
        for d in documents
        if d.index == world.SECURITY_ALERTS_INDEX
        and d.source["kibana.alert.workflow_status"] in ("open", "acknowledged")
        and datetime.fromisoformat(d.timestamp.replace("Z", "+00:00")) >= cutoff
    ]
    alerts.sort(key=lambda a: (-a["kibana.alert.risk_score"], a["@timestamp"]))
    anonymized = Anonymizer().anonymize_documents(alerts[:100], policy)
    rendered = ["\n".join(f"{k},{','.join(map(str, v))}" for k, v in a.items()) for a in anonymized]
    return tokens(json.dumps(rendered))


# --- part 2: natural language to ES|QL ---------------------------------------------------------


def _normal(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ",".join(sorted(_normal(v) for v in value)) + "]"
    return str(value)


def same_result(reference: EsqlResult, generated: EsqlResult, ordered: bool) -> tuple[bool, bool]:
    """(strict, lenient): strict compares whole rows (columns in any order); lenient accepts
    extra generated columns when every reference column's values are found among them."""
    ref_rows = [tuple(sorted(_normal(v) for v in row)) for row in reference.values]
    gen_rows = [tuple(sorted(_normal(v) for v in row)) for row in generated.values]
    strict = ref_rows == gen_rows if ordered else sorted(ref_rows) == sorted(gen_rows)
    if strict or len(reference.values) != len(generated.values):
        return strict, strict
    gen_columns = [[_normal(row[i]) for row in generated.values] for i in range(len(generated.columns))]
    lenient = True
    for i in range(len(reference.columns)):
        column = [_normal(row[i]) for row in reference.values]
        if not any((c == column) if ordered else (sorted(c) == sorted(column)) for c in gen_columns):
            lenient = False
    return False, lenient


@dataclass
class NlOutcome:
    pair: Pair
    strict: bool
    lenient: bool
    attempts: int
    seconds: float
    error: str | None = None


@dataclass
class NlRun:
    model: str
    outcomes: list[NlOutcome] = field(default_factory=list)
    prompt_tokens: int = 0
    model_calls: int = 0

    def score(self, lenient: bool = False) -> float:
        hits = sum(1 for o in self.outcomes if (o.lenient if lenient else o.strict))
        return hits / max(len(self.outcomes), 1)


def demo_store(documents: Sequence[DemoDocument]) -> DataStore:
    store = DataStore.open(None)
    for start in range(0, len(documents), 5000):
        batch = documents[start : start + 5000]
        store.write([WriteOp("create", d.index, d.id, d.source) for d in batch])
    return store


async def run_nl(
    store: DataStore,
    pairs: Sequence[Pair],
    model: Any,
    name: str,
    attempts: int,
    workdir: Path,
    before: Callable[[int, Pair], None] = lambda _i, _p: None,
) -> NlRun:
    rules = [(f.field, f.allowed, f.anonymized) for f in DEFAULT_FIELDS]
    rules += [(f, True, anonymized) for f, anonymized in DEMO_FIELD_RULES]
    settings = Settings(data_dir=workdir, esql_tool_max_attempts=attempts)
    database = Database(settings)
    run = NlRun(name)
    source = EmbeddedDataSource(store)
    principal = Principal("u_eval", "eval", ("editor",))
    for number, pair in enumerate(pairs):
        before(number, pair)
        redactor = TurnRedactor(Anonymizer(), policy_from_rules(rules))
        writer = ModelSideCalls(model, None, redactor.text, redactor.restore)
        context = ToolContext(principal, "default", None, database, settings, data_source=source, privacy=redactor)
        context.ask_model = writer
        started = time.perf_counter()
        try:
            outcome = await obtain_result(context, Parts(source, redactor), pair.question)
        except Exception as exc:  # a model that fails outright scores 0 on this question
            run.outcomes.append(NlOutcome(pair, False, False, 0, time.perf_counter() - started, str(exc)[:200]))
            continue
        seconds = time.perf_counter() - started
        run.prompt_tokens += writer.usage.prompt_tokens
        run.model_calls += writer.usage.model_requests
        if outcome.result is None:
            last = outcome.attempts[-1].error if outcome.attempts else "no query"
            run.outcomes.append(NlOutcome(pair, False, False, len(outcome.attempts), seconds, last))
            continue
        strict, lenient = same_result(run_esql(store, pair.reference), outcome.result, pair.ordered)
        run.outcomes.append(NlOutcome(pair, strict, lenient, len(outcome.attempts), seconds))
    database.dispose()
    return run


# --- the program -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="8 tasks and 20 question pairs")
    parser.add_argument("--skip-local", action="store_true", help="do not run the embedded model")
    parser.add_argument("--local-max", type=int, default=None, help="questions for the embedded model")
    parser.add_argument("--local-attempts", type=int, default=2, help="queries the embedded model may try")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown too")
    args = parser.parse_args()
    console.print(f"[bold]agent_eval[/bold] on {machine_description()}")
    end = default_end()
    documents = generate(end=end)
    task_list = tasks()[:8] if args.quick else tasks()
    pairs = PAIRS[:20] if args.quick else PAIRS

    with tempfile.TemporaryDirectory(prefix="vigil-agent-eval-") as tmp:
        workdir = Path(tmp)
        env = {
            "VIGIL_DATA_DIR": str(workdir / "data"),
            "VIGIL_ADMIN_USERNAME": ADMIN[0],
            "VIGIL_ADMIN_PASSWORD": ADMIN[1],
            "VIGIL_CHAT_GENERATE_TITLES": "false",
            "VIGIL_LOG_LEVEL": "warning",
        }
        with FakeOpenAI() as fake, vigil_server(env, workdir) as url:
            with httpx.Client(base_url=url, auth=ADMIN, headers=HEADERS, timeout=120) as client:
                loaded = LoadReport()
                send_documents(client, documents, loaded)
                add_field_rules(client, loaded)
                connector = client.post(
                    "/api/actions/connector",
                    json={
                        "name": "eval fake",
                        "connector_type_id": ".gen-ai",
                        "config": {
                            "apiProvider": "Other",
                            "apiUrl": f"{fake.base_url}/chat/completions",
                            "defaultModel": "fake-gpt",
                        },
                        "secrets": {"apiKey": "sk-eval"},
                    },
                ).json()["id"]
                results = [run_task(client, fake, connector, task) for task in task_list]
            report_tasks(results, kibana_alerts_baseline(documents, end), args.markdown)

        store = demo_store(documents)
        context_report(store)
        with FakeOpenAI() as fake:
            fake_model = build_model(
                ".gen-ai",
                {"apiProvider": "Other", "apiUrl": f"{fake.base_url}/chat/completions", "defaultModel": "fake"},
                {"apiKey": "sk-eval"},
            )

            def script(number: int, pair: Pair) -> None:
                fake.reset()
                if number % 7 == 6:  # every seventh question: a broken query first
                    fake.script(reply(f"```esql\n{pair.reference.replace('STATS', 'STAT', 1)}\n```"))
                fake.script(reply(f"```esql\n{pair.reference}\n```"))

            runs = [asyncio.run(run_nl(store, pairs, fake_model, "fake (reference query)", 3, workdir, script))]
        if not args.skip_local:
            local = build_model(".vigil-local", {"maxTokens": 160, "contextWindow": 4096, "temperature": 0.0}, {})
            chosen = pairs[: args.local_max] if args.local_max else pairs

            def progress(number: int, pair: Pair) -> None:
                console.print(f"  embedded model: question {number + 1}/{len(chosen)}", end="\r")

            name = "SmolLM2-135M (.vigil-local)"
            runs.append(asyncio.run(run_nl(store, chosen, local, name, args.local_attempts, workdir, progress)))
        report_nl(runs, args.markdown)
        store.close()


def report_tasks(results: list[TaskResult], kibana_alert_tokens: int, markdown: bool) -> None:
    table = Table("category", "tasks", "ok", "model calls", "of which side", "prompt ≈tokens", "largest request")
    rows: list[list[str]] = []
    for category in dict.fromkeys(r.task.category for r in results):
        group = [r for r in results if r.task.category == category]
        row = [
            category,
            str(len(group)),
            str(sum(r.ok for r in group)),
            f"{sum(r.calls for r in group) / len(group):.1f}",
            f"{sum(r.side_calls for r in group) / len(group):.1f}",
            f"{sum(r.prompt_tokens for r in group) / len(group):,.0f}",
            f"{max(r.largest_request for r in group):,}",
        ]
        table.add_row(*row)
        rows.append(row)
    total = [
        "all",
        str(len(results)),
        str(sum(r.ok for r in results)),
        f"{sum(r.calls for r in results) / len(results):.2f}",
        f"{sum(r.side_calls for r in results) / len(results):.2f}",
        f"{sum(r.prompt_tokens for r in results) / len(results):,.0f}",
        f"{max(r.largest_request for r in results):,}",
    ]
    table.add_row(*total, style="bold")
    rows.append(total)
    console.print("\n[bold]1. Investigation tasks[/bold] (means per task; ≈tokens = characters / 4)")
    console.print(table)
    first = results[0]
    if first.alerts_tool_tokens:
        console.print(
            f"alerts of task 1: Vigil's table ≈{first.alerts_tool_tokens:,} tokens, the same alerts in Kibana's "
            f"field,value shape ≈{kibana_alert_tokens:,} ({kibana_alert_tokens / first.alerts_tool_tokens:.1f}x)"
        )
    cited = sum(1 for r in results if r.citations)
    console.print(f"answers with citations: {cited} of {len(results)}")
    if markdown:
        _markdown(table.columns, rows)


def context_report(store: DataStore) -> None:
    from vigil.investigation.data_context import describe_indices, render_context

    rules = [(f.field, f.allowed, f.anonymized) for f in DEFAULT_FIELDS] + [(f, True, a) for f, a in DEMO_FIELD_RULES]
    policy = policy_from_rules(rules)
    source = EmbeddedDataSource(store)
    indices = readable_indices(source, "default")
    question = "chart the error count for the checkout service over the last 24 hours"
    chosen = render_context(indices, describe_indices(source, indices, question, policy))
    everything = "\n".join(
        f"{info.name}: " + ", ".join(f"{f.name} {f.es_type}" for f in info.fields.values()) for info in indices
    )
    console.print(
        f"\nquery writer's data context for the checkout chart: ≈{tokens(chosen):,} tokens; every field of every "
        f"index, without values: ≈{tokens(everything):,}"
    )


def report_nl(runs: list[NlRun], markdown: bool) -> None:
    table = Table(
        "model",
        "questions",
        "a query ran",
        "correct (strict)",
        "correct (lenient)",
        "mean attempts",
        "writer tokens/question",
        "s/question",
    )
    rows = []
    for run in runs:
        n = max(len(run.outcomes), 1)
        row = [
            run.model,
            str(len(run.outcomes)),
            f"{sum(1 for o in run.outcomes if o.error is None) / n:.0%}",
            f"{run.score():.0%}",
            f"{run.score(lenient=True):.0%}",
            f"{sum(o.attempts for o in run.outcomes) / n:.2f}",
            f"{run.prompt_tokens / n:,.0f}",
            f"{sum(o.seconds for o in run.outcomes) / n:.2f}",
        ]
        table.add_row(*row)
        rows.append(row)
    console.print("\n[bold]2. Natural language to ES|QL[/bold] (writer tokens as the provider reports them)")
    console.print(table)
    for run in runs:
        failures = [o for o in run.outcomes if not o.strict][:3]
        for outcome in failures:
            console.print(f"  {run.model} missed: {outcome.pair.question} ({(outcome.error or 'other result')[:100]})")
    if markdown:
        _markdown(table.columns, rows)


def _markdown(columns: Sequence[Any], rows: list[list[str]]) -> None:
    headers = [str(c.header) for c in columns]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
