"""Conversations API latency at scale: get, append and `_find` through real HTTP.

Loads N conversations (~10 messages each) straight into the real schema with SQLAlchemy Core
bulk inserts, starts `vigil serve` (one uvicorn worker) in a subprocess, and times requests
one at a time from this process. Baselines measured in the same run:

* `status`: anonymous GET /api/status, i.e. the HTTP stack plus one trivial database ping.
* `service.find`: the `_find` service call in-process (SQL + ORM + documents, no HTTP).
* `sql`: the SQL statements `_find` issues (count, page, users, messages), run with Core.

Usage:  .venv/bin/python bench/conversations.py [--quick] [--backend sqlite|postgres|both]
See bench/README.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _support import (
    DEFAULT_POSTGRES_ADMIN_URL,
    Timings,
    machine_description,
    postgres_reachable,
    postgres_version,
    throwaway_postgres,
    vigil_server,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, create_engine, event, select, text

from vigil.auth.principal import Principal
from vigil.auth.service import put_user
from vigil.conversations import schemas, service
from vigil.conversations.models import Conversation, ConversationMessage, ConversationUser
from vigil.db.engine import Database
from vigil.db.migrate import upgrade
from vigil.settings import INTERNAL_API_VERSION, KIBANA_API_VERSION, Settings

# Wide enough for the table when the output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 150)

SPACE = "default"
PUBLIC = "/api/security_ai_assistant/current_user/conversations"
INTERNAL = "/internal/elastic_assistant/current_user/conversations"
PUBLIC_HEADERS = {"elastic-api-version": KIBANA_API_VERSION, "kbn-xsrf": "bench"}
INTERNAL_HEADERS = {"elastic-api-version": INTERNAL_API_VERSION, "kbn-xsrf": "bench"}

FIND_TARGET_MS = 25.0
APPEND_TARGET_MS = 15.0
# (label, KQL filter or None). Every `_find` sorts by updated_at desc, 20 per page, pages 1..5.
FIND_VARIANTS: list[tuple[str, str | None]] = [
    ("title:incident*", "title:incident*"),
    ("category:insights", "category:insights"),
    ("no filter", None),
]


# --- synthetic data ------------------------------------------------------------------------------

_VOCABULARY_TEXT = """
alert rule host user process parent command line powershell encoded payload lateral movement
credential dumping lsass mimikatz persistence scheduled task registry run key beacon outbound
connection suspicious domain dns tunnel exfiltration archive rar staging directory privilege
escalation token impersonation service account kerberos ticket golden silver brute force failed
logon successful logon from new country impossible travel mfa fatigue phishing attachment macro
document child process rundll32 regsvr32 mshta certutil download cradle base64 obfuscation
endpoint isolated quarantine hash sha256 reputation virustotal detection engine severity high
critical medium low risk score entity analytics timeline investigation case analyst escalate
containment eradication recovery lessons learned indicator compromise ip address port protocol
tls certificate self signed user agent curl python requests cloud trail iam role assumed s3
bucket public acl kubernetes pod privileged container escape crypto miner xmrig cpu spike
ransomware note encrypted files shadow copies deleted vssadmin wevtutil cleared logs defense
evasion masquerading signed binary proxy execution living off the land ransomware affiliate
"""
_VOCABULARY = _VOCABULARY_TEXT.split()

_SENTENCE_OPENERS = [
    "Based on the alerts,",
    "The timeline shows that",
    "I recommend that you",
    "Looking at the process tree,",
    "According to the ES|QL results,",
    "The most likely explanation is that",
    "Next, check whether",
    "There is no evidence that",
]

_ESQL_SNIPPET = (
    '\n```esql\nFROM logs-endpoint.events.process-*\n| WHERE host.name == "{host}" AND '
    'process.name == "powershell.exe"\n| STATS count = COUNT(*) BY user.name\n| SORT count DESC\n'
    "| LIMIT 10\n```\n"
)

_TITLE_TEMPLATES = [
    "Incident {n}: {alert} on {host}",
    "Triage {alert} alert on {host}",
    "Investigate {alert} from {ip}",
    "ES|QL query for {alert}",
    "Attack discovery summary #{n}",
    "{alert} - incident review",
    "Why did {host} talk to {ip}?",
    "Explain rule: {alert}",
    "New chat",
    "Weekly threat hunt: {alert}",
]

_ALERTS = [
    "Suspicious PowerShell",
    "Credential Access via LSASS",
    "Potential DNS Tunneling",
    "Unusual Parent Process",
    "Ransomware Behavior",
    "Malicious Office Macro",
    "Brute Force Logon",
    "Impossible Travel",
    "Privileged Container",
    "Cloud IAM Role Assumed",
]

_MODELS = [
    ("my-gpt-4o", ".gen-ai", "OpenAI", "gpt-4o"),
    ("azure-gpt-4o-mini", ".gen-ai", "Azure OpenAI", "gpt-4o-mini"),
    ("claude-sonnet", ".bedrock", None, "claude-3-5-sonnet"),
    ("gemini-pro", ".gemini", None, "gemini-1.5-pro"),
]


def _corpus(rng: random.Random, size: int = 1_500_000) -> str:
    """A long pseudo-English text about security work; message contents are slices of it."""
    parts: list[str] = []
    length = 0
    while length < size:
        words = rng.choices(_VOCABULARY, k=rng.randint(8, 24))
        sentence = f"{rng.choice(_SENTENCE_OPENERS)} {' '.join(words)}. "
        if rng.random() < 0.05:
            sentence += _ESQL_SNIPPET.format(host=f"host-{rng.randint(1, 500):03d}")
        if rng.random() < 0.1:
            sentence += "\n\n- " + " ".join(rng.choices(_VOCABULARY, k=6)) + "\n"
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)


@dataclass
class BenchUser:
    username: str
    password: str
    user_id: str
    owned: list[str] = field(default_factory=list)

    @property
    def principal(self) -> Principal:
        return Principal(user_id=self.user_id, username=self.username, roles=("editor",))


class DataGenerator:
    """Deterministic (seeded) conversations, sharing lists and messages of varied length."""

    def __init__(self, seed: int, users: list[BenchUser], messages_per_conversation: int) -> None:
        self.rng = random.Random(seed)
        self.users = users
        self.messages = messages_per_conversation
        self.corpus = _corpus(self.rng)
        self.now = datetime.now(UTC).replace(microsecond=0)

    def text(self, minimum: int, maximum: int, *, lognormal: bool = False) -> str:
        rng = self.rng
        if lognormal:  # assistant answers: mostly a few hundred characters, some long ones
            length = int(min(maximum, max(minimum, rng.lognormvariate(6.0, 0.8))))
        else:
            length = rng.randint(minimum, maximum)
        start = rng.randrange(0, len(self.corpus) - length)
        return self.corpus[start : start + length].strip() or "ok"

    def title(self) -> str:
        rng = self.rng
        return rng.choice(_TITLE_TEMPLATES).format(
            n=rng.randint(1000, 99999),
            alert=rng.choice(_ALERTS),
            host=f"host-{rng.randint(1, 500):03d}",
            ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        )

    def chunk(self, ids: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        conversations: list[dict[str, Any]] = []
        sharing: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        low = max(1, self.messages // 2)
        high = max(low, self.messages + self.messages // 2)
        for conversation_id in ids:
            owner = rng.choice(self.users)
            owner.owned.append(conversation_id)
            created = self.now - timedelta(seconds=rng.randint(3600, 180 * 86400))
            count = rng.randint(low, high)
            moment = created
            for seq in range(count):
                moment += timedelta(seconds=rng.randint(3, 240))
                assistant = seq % 2 == 1
                messages.append(
                    {
                        "conversation_id": conversation_id,
                        "seq": seq,
                        "role": "assistant" if assistant else "user",
                        "content": self.text(80, 6000, lognormal=True) if assistant else self.text(15, 400),
                        "timestamp": service.kibana_timestamp(moment),
                        "is_error": None,
                        "reader": None,
                        "trace_data": (
                            {"transactionId": uuid.UUID(int=rng.getrandbits(128)).hex[:16]}
                            if assistant and rng.random() < 0.5
                            else None
                        ),
                        "metadata": None,
                    }
                )
            connector, action_type, provider, model = rng.choice(_MODELS)
            api_config: dict[str, Any] = {
                "connectorId": connector,
                "actionTypeId": action_type,
                "model": model,
            }
            if provider:
                api_config["provider"] = provider
            roll = rng.random()
            shared = roll < 0.05
            if shared:  # users: [] -> everyone in the space
                listed: list[BenchUser] = []
            elif roll < 0.10:  # restricted: the owner and one to three others
                others = [u for u in rng.sample(self.users, min(4, len(self.users))) if u is not owner]
                listed = [owner, *others[: rng.randint(1, 3)]]
            else:  # private
                listed = [owner]
            sharing.extend(
                {
                    "conversation_id": conversation_id,
                    "position": i,
                    "user_id": u.user_id,
                    "user_name": u.username,
                    "is_owner": u is owner,
                }
                for i, u in enumerate(listed)
            )
            replacements = (
                {str(uuid.UUID(int=rng.getrandbits(128))): f"host-{rng.randint(1, 500):03d}"}
                if rng.random() < 0.2
                else {}
            )
            conversations.append(
                {
                    "id": conversation_id,
                    "namespace": SPACE,
                    "title": self.title(),
                    "category": "insights" if rng.random() < 0.1 else "assistant",
                    "created_by_id": owner.user_id,
                    "created_by_name": owner.username,
                    "is_shared_globally": shared,
                    "api_config": api_config,
                    "replacements": replacements,
                    "summary": None,
                    "is_default": False,
                    "exclude_from_last_conversation_storage": None,
                    "message_count": count,
                    "created_at": created,
                    "updated_at": moment,
                }
            )
        return conversations, sharing, messages


# --- storage -------------------------------------------------------------------------------------


@dataclass
class Store:
    backend: str
    workdir: Path
    settings: Settings
    server_env: dict[str, str]


@contextmanager
def store(backend: str, args: argparse.Namespace) -> Iterator[Store]:
    workdir = Path(tempfile.mkdtemp(prefix=f"vigil-bench-{backend}-"))
    data_dir = workdir / "data"
    # The built-in knowledge base is indexed once at a store's first start (~15 CPU s); measured
    # requests would share the GIL with it, which no steady-state server does, so it stays off.
    env = {"VIGIL_DATA_DIR": str(data_dir), "VIGIL_KNOWLEDGE_BASE_AUTO_SETUP": "false"}
    if args.sqlite_synchronous:
        env["VIGIL_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous
    try:
        if backend == "sqlite":
            env["VIGIL_DATABASE_URL"] = ""
            yield Store(backend, workdir, Settings(data_dir=data_dir, database_url=None), env)
        else:
            with throwaway_postgres(args.postgres_url, "vigil_bench") as url:
                env["VIGIL_DATABASE_URL"] = url
                # A shared store needs an explicit key for connector secrets (none are used here).
                env.setdefault("VIGIL_ENCRYPTION_KEY", os.environ.get("VIGIL_ENCRYPTION_KEY", "bench-" + "k" * 40))
                yield Store(backend, workdir, Settings(data_dir=data_dir, database_url=url), env)
    finally:
        if args.keep:
            console.print(f"[dim]kept {workdir}[/dim]")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _loader_engine(url: str) -> Engine:
    """A plain engine for bulk loading: no durability, no FK checks (the data is consistent)."""
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if url.startswith("sqlite"):
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
        else:
            cursor.execute("SET synchronous_commit TO off")
        cursor.close()

    return engine


def create_users(database: Database, count: int) -> list[BenchUser]:
    users = []
    with database.session() as session:
        for i in range(count):
            username = f"analyst{i:03d}"
            password = f"bench-password-{i:03d}"
            user, _ = put_user(session, username, password=password, roles=["editor"], full_name=username)
            users.append(BenchUser(username, password, user.id))
    return users


@dataclass
class LoadReport:
    conversations: int = 0
    messages: int = 0
    sharing_rows: int = 0
    users_seconds: float = 0.0
    rows_seconds: float = 0.0
    finish_seconds: float = 0.0
    size_bytes: int = 0


def load(st: Store, args: argparse.Namespace) -> tuple[list[BenchUser], LoadReport]:
    report = LoadReport()
    database = Database(st.settings)
    try:
        upgrade(database)
        started = time.perf_counter()
        with console.status(f"creating {args.users} users (argon2 hashing)"):
            users = create_users(database, args.users)
        report.users_seconds = time.perf_counter() - started
    finally:
        database.dispose()

    generator = DataGenerator(args.seed, users, args.messages)
    id_rng = random.Random(args.seed + 1)
    # Sorted ids: the primary-key B-trees fill in order, which is what makes the load fast.
    ids = sorted(str(uuid.UUID(int=id_rng.getrandbits(128), version=4)) for _ in range(args.conversations))
    engine = _loader_engine(st.settings.resolved_database_url)
    chunk = 2000
    started = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"{st.backend}: loading conversations", total=len(ids))
            for offset in range(0, len(ids), chunk):
                conversations, sharing, messages = generator.chunk(ids[offset : offset + chunk])
                with engine.begin() as connection:
                    connection.execute(Conversation.__table__.insert(), conversations)
                    connection.execute(ConversationUser.__table__.insert(), sharing)
                    connection.execute(ConversationMessage.__table__.insert(), messages)
                report.conversations += len(conversations)
                report.messages += len(messages)
                report.sharing_rows += len(sharing)
                progress.advance(task, len(conversations))
        report.rows_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with console.status(f"{st.backend}: checkpoint / vacuum analyze"):
            if st.backend == "sqlite":
                # No ANALYZE: Vigil never runs it, so the planner works without statistics,
                # as it would on a real install. Only fold the WAL back into the file.
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                db_file = st.settings.data_dir / "vigil.db"
                report.size_bytes = db_file.stat().st_size
            else:
                # What autovacuum does shortly after a bulk load anyway.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
                    report.size_bytes = int(connection.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        report.finish_seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return users, report


# --- measurement ---------------------------------------------------------------------------------


@dataclass
class CpuTimings(Timings):
    """Latencies, and the CPU time spent per operation by whoever does the work (the server
    process over HTTP, this process in-process): wall times stretch with the machine's load."""

    cpu_ms: float = 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (10 ms ticks: use over many calls)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(base_url: str) -> int:
    """The `vigil serve` child this process started for base_url (found by its port)."""
    port = base_url.rsplit(":", 1)[1]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"serve" in cmdline and port.encode() in cmdline:
            return int(stat.parent.name)
    raise RuntimeError(f"no server process for {base_url}")


def run(
    name: str, operation: Callable[[int], int], args: argparse.Namespace, cpu: Callable[[], float] = time.process_time
) -> CpuTimings:
    """Calls operation(i) for the warm-up, then args.requests times; operation returns its own
    elapsed ns. An operation slower than args.max_seconds in total stops early (at least 20
    samples), so a slow query costs the run a bounded time: the table shows the real n.
    `cpu` is the clock of the process doing the work."""
    deadline = time.monotonic() + args.max_seconds / 5
    for i in range(args.warmup):
        operation(-1 - i)
        if time.monotonic() > deadline:
            break
    timings = CpuTimings(name)
    gc.collect()
    gc.disable()
    deadline = time.monotonic() + args.max_seconds
    cpu_started = cpu()
    try:
        for i in range(args.requests):
            timings.add_ns(operation(i))
            if i >= 19 and time.monotonic() > deadline:
                break
    finally:
        gc.enable()
    timings.cpu_ms = (cpu() - cpu_started) * 1e3 / max(1, timings.n)
    return timings


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:500]}"
        )


def _find_params(label_filter: str | None, page: int, per_page: int = 20) -> dict[str, Any]:
    params: dict[str, Any] = {
        "sort_field": "updated_at",
        "sort_order": "desc",
        "page": page,
        "per_page": per_page,
    }
    if label_filter:
        params["filter"] = label_filter
    return params


def measure_http(base_url: str, users: list[BenchUser], generator_seed: int, args: argparse.Namespace) -> list[Timings]:
    rng = random.Random(generator_seed)
    pid = server_pid(base_url)
    corpus = _corpus(random.Random(generator_seed + 2), size=200_000)
    results: list[Timings] = []
    with httpx.Client(base_url=base_url, headers=PUBLIC_HEADERS, timeout=60) as client:
        with (
            console.status("warming the server's credential cache (one argon2 check per user)"),
            ThreadPoolExecutor(max_workers=4) as pool,  # argon2 releases the GIL: use both cores
        ):
            for response in pool.map(
                lambda user: client.get(f"{PUBLIC}/_find", params={"per_page": 0}, auth=(user.username, user.password)),
                users,
            ):
                _check(response)

        def status(_: int) -> int:
            started = time.perf_counter_ns()
            response = client.get("/api/status")
            elapsed = time.perf_counter_ns() - started
            _check(response)
            return elapsed

        def get(_: int) -> int:
            user = rng.choice(users)
            conversation_id = rng.choice(user.owned)
            started = time.perf_counter_ns()
            response = client.get(f"{PUBLIC}/{conversation_id}", auth=(user.username, user.password))
            elapsed = time.perf_counter_ns() - started
            _check(response)
            return elapsed

        def find(kql: str | None) -> Callable[[int], int]:
            def operation(_: int) -> int:
                user = rng.choice(users)
                params = _find_params(kql, rng.randint(1, 5))
                started = time.perf_counter_ns()
                response = client.get(f"{PUBLIC}/_find", params=params, auth=(user.username, user.password))
                elapsed = time.perf_counter_ns() - started
                _check(response)
                return elapsed

            return operation

        def append(_: int) -> int:
            user = rng.choice(users)
            conversation_id = rng.choice(user.owned)
            start = rng.randrange(0, len(corpus) - 400)
            body = {
                "messages": [
                    {
                        "role": "user",
                        "content": corpus[start : start + rng.randint(20, 400)],
                        "timestamp": service.kibana_timestamp(datetime.now(UTC)),
                    }
                ]
            }
            started = time.perf_counter_ns()
            response = client.post(
                f"{INTERNAL}/{conversation_id}/messages",
                json=body,
                headers=INTERNAL_HEADERS,
                auth=(user.username, user.password),
            )
            elapsed = time.perf_counter_ns() - started
            _check(response)
            return elapsed

        plan: list[tuple[str, Callable[[int], int]]] = [
            ("status (anonymous, baseline)", status),
            ("get conversation", get),
            *[(f"_find {label}", find(kql)) for label, kql in FIND_VARIANTS],
            ("append message", append),
        ]
        for name, operation in plan:
            with console.status(f"HTTP: {name}"):
                results.append(run(name, operation, args, cpu=lambda: process_cpu_seconds(pid)))
    return results


def _find_statements(principal: Principal, kql: str | None, page: int) -> tuple[Any, Any, dict[str, Any]]:
    """Exactly the SQL `_find` issues (`service.find_statements`): the total, page ids, values."""
    query = service.FindQuery(page=page, per_page=20, filter=kql)
    return service.find_statements(principal, SPACE, query)


def measure_in_process(st: Store, users: list[BenchUser], seed: int, args: argparse.Namespace) -> list[Timings]:
    """The same operations without HTTP: the service calls (SQL + ORM + documents, as the routes
    make them), `_find`'s SQL alone through Core, and the disk's fsync, which every durable
    commit waits for. Run after the server has stopped, so nothing else uses the store."""
    rng = random.Random(seed)
    corpus = _corpus(random.Random(seed + 2), size=200_000)
    database = Database(st.settings)
    results: list[Timings] = []

    def get(_: int) -> int:
        user = rng.choice(users)
        conversation_id = rng.choice(user.owned)
        started = time.perf_counter_ns()
        with database.session(readonly=True) as session:
            conversation = service.get_visible(session, user.principal, SPACE, conversation_id)
            service.full_document(session, conversation)
        return time.perf_counter_ns() - started

    def append(_: int) -> int:
        user = rng.choice(users)
        conversation_id = rng.choice(user.owned)
        start = rng.randrange(0, len(corpus) - 400)
        message = schemas.Message(
            role="user",
            content=corpus[start : start + rng.randint(20, 400)],
            timestamp=service.kibana_timestamp(datetime.now(UTC)),
        )
        started = time.perf_counter_ns()
        with database.session() as session:
            conversation = service.append_messages(session, user.principal, SPACE, conversation_id, [message])
            service.full_document(session, conversation)
        return time.perf_counter_ns() - started

    probe = st.workdir / "fsync.probe"
    block = os.urandom(4096)

    def fsync(_: int) -> int:
        with probe.open("ab") as handle:
            handle.write(block)
            handle.flush()
            started = time.perf_counter_ns()
            os.fsync(handle.fileno())
            return time.perf_counter_ns() - started

    def find_via_service(kql: str | None) -> Callable[[int], int]:
        def operation(_: int) -> int:
            user = rng.choice(users)
            query = service.FindQuery(page=rng.randint(1, 5), per_page=20, filter=kql)
            started = time.perf_counter_ns()
            with database.session(readonly=True) as session:
                service.find(session, user.principal, SPACE, query)
            return time.perf_counter_ns() - started

        return operation

    def find_via_sql(kql: str | None) -> Callable[[int], int]:
        sharing = ConversationUser.__table__
        messages = ConversationMessage.__table__

        def operation(_: int) -> int:
            user = rng.choice(users)
            count, page_ids, params = _find_statements(user.principal, kql, rng.randint(1, 5))
            started = time.perf_counter_ns()
            with database.engine.execution_options(vigil_readonly=True).begin() as connection:
                connection.execute(count, params).scalar()
                ids = list(connection.execute(page_ids, params).scalars())
                if ids:
                    connection.execute(select(Conversation.__table__).where(Conversation.id.in_(ids))).all()
                    connection.execute(select(sharing).where(sharing.c.conversation_id.in_(ids))).all()
                    connection.execute(
                        select(*service.MESSAGE_WIRE_COLUMNS)
                        .where(messages.c.conversation_id.in_(ids))
                        .order_by(messages.c.conversation_id, messages.c.seq)
                    ).all()
            return time.perf_counter_ns() - started

        return operation

    plan: list[tuple[str, Callable[[int], int]]] = [("get conversation (service)", get)]
    for label, kql in FIND_VARIANTS:
        plan.append((f"_find {label} (service)", find_via_service(kql)))
        plan.append((f"_find {label} (SQL only)", find_via_sql(kql)))
    plan += [("append message (service, commit)", append), ("fsync of 4 KiB (disk baseline)", fsync)]
    try:
        for name, operation in plan:
            with console.status(f"in-process: {name}"):
                results.append(run(f"  in-process {name}", operation, args))
    finally:
        database.dispose()
        probe.unlink(missing_ok=True)
    return results


def explain(st: Store, users: list[BenchUser]) -> list[str]:
    """The plans of `_find`'s count and page queries (title filter, first user, page 1)."""
    database = Database(st.settings)
    lines: list[str] = []
    try:
        count, page_ids, params = _find_statements(users[0].principal, "title:incident*", 1)
        statements = [("total", count.params(params)), ("page ids", page_ids.params(params))]
        with database.engine.connect() as connection:
            for label, statement in statements:
                sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
                lines.append(f"-- {label}: {' '.join(sql.split())}")
                if st.backend == "sqlite":
                    for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql):
                        lines.append(f"   {row[3]}")
                else:
                    for row in connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql):
                        lines.append(f"   {row[0]}")
    finally:
        database.dispose()
    return lines


# --- report --------------------------------------------------------------------------------------


def _target(name: str) -> float | None:
    if name.startswith("_find"):
        return FIND_TARGET_MS
    if name.startswith("append"):
        return APPEND_TARGET_MS
    return None


def result_rows(timings: list[Timings]) -> list[list[str]]:
    baseline = timings[0].p(50)
    rows = []
    for t in timings:
        target = _target(t.name)
        p95 = t.p(95)
        verdict = "" if target is None else ("PASS" if p95 <= target else "FAIL")
        rows.append(
            [
                t.name,
                str(t.n),
                f"{t.p(50):.2f}",
                f"{p95:.2f}",
                f"{t.p(99):.2f}",
                f"{t.p(50) / baseline:.1f}x",
                f"{t.cpu_ms:.2f}" if isinstance(t, CpuTimings) else "",
                "" if target is None else f"p95 < {target:g}",
                verdict,
            ]
        )
    return rows


HEADERS = ["operation", "n", "p50 ms", "p95 ms", "p99 ms", "p50 / status p50", "CPU ms", "target", "verdict"]


def print_table(title: str, rows: list[list[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in rows:
        style = "red" if row[-1] == "FAIL" else ("green" if row[-1] == "PASS" else None)
        table.add_row(*row, style=style)
    console.print(table)


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|"]
    lines += ["| " + " | ".join(cell.strip() for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000, help="conversations to load (100000)")
    parser.add_argument("--messages", type=int, default=10, help="average messages per conversation (10)")
    parser.add_argument("--users", type=int, default=100, help="owners the conversations are spread over (100)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per operation (300)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per operation first (30)")
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        default=None,
        help="default: both when PostgreSQL answers at --postgres-url, else sqlite",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=20,
        help="time budget per operation; slower ones stop early, after 20 samples (20)",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_ADMIN_URL, help="admin database URL")
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["OFF", "NORMAL", "FULL", "EXTRA"],
        default=None,
        help="VIGIL_SQLITE_SYNCHRONOUS for the server (default: Vigil's, FULL)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 5000 conversations, 100 requests")
    parser.add_argument("--explain", action="store_true", help="print the _find query plans")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("--seed", type=int, default=1, help="random seed (data and request mix)")
    args = parser.parse_args(argv)
    if args.quick:
        args.conversations = min(args.conversations, 5000)
        args.requests = min(args.requests, 100)
        args.warmup = min(args.warmup, 10)
        args.users = min(args.users, 20)
    if args.users < 1 or args.conversations < args.users:
        parser.error("need at least one user and one conversation per user")
    return args


def _load_average() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A plain `kill` still drops the throwaway database and the temporary directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.backend is None:
        reachable = postgres_reachable(args.postgres_url)
        args.backend = "both" if reachable else "sqlite"
        if not reachable:
            console.print(f"[yellow]PostgreSQL not reachable at {args.postgres_url}: SQLite only[/yellow]")
    elif args.backend in ("postgres", "both") and not postgres_reachable(args.postgres_url):
        console.print(f"[red]PostgreSQL not reachable at {args.postgres_url}[/red]")
        return 2
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    console.print(f"[bold]Conversations API benchmark[/bold] on {machine_description()}")
    console.print(
        f"{args.conversations} conversations x ~{args.messages} messages, {args.users} users "
        f"(~5% shared with the space, ~5% restricted), {args.requests} timed requests per operation "
        f"after {args.warmup} warm-up, one at a time, one uvicorn worker; {_load_average()}"
    )
    markdown: list[str] = []
    for backend in backends:
        with store(backend, args) as st:
            if backend == "postgres":
                console.print(f"PostgreSQL {postgres_version(st.settings.resolved_database_url)}")
            users, report = load(st, args)
            loaded = report.rows_seconds + report.finish_seconds
            rows_per_second = (report.conversations + report.messages + report.sharing_rows) / report.rows_seconds
            load_line = (
                f"{backend}: loaded {report.conversations} conversations, {report.messages} messages "
                f"in {loaded:.1f} s ({rows_per_second:,.0f} rows/s; +{report.users_seconds:.1f} s for "
                f"{len(users)} users), database {report.size_bytes / 2**20:,.0f} MiB"
            )
            console.print(load_line)
            gc.collect()
            gc.freeze()
            with vigil_server(st.server_env, st.workdir) as base_url:
                timings = measure_http(base_url, users, args.seed + 10, args)
            timings += measure_in_process(st, users, args.seed + 20, args)
            rows = result_rows(timings)
            title = f"{backend}: {args.conversations} conversations ({_load_average()} after the run)"
            print_table(title, rows)
            markdown += [f"{load_line}\n", f"**{title}**\n", markdown_table(rows), ""]
            if args.explain:
                plan = explain(st, users)
                console.print("\n".join(plan), highlight=False, markup=False)
                markdown += ["```", *plan, "```", ""]
    if args.markdown:
        console.print("\n".join(markdown), highlight=False, markup=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
