"""Realistic, reproducible ECS security alerts for tests, the leak harness and benchmarks.

Sensitive values (hosts, users, IPs, e-mails) are repeated where real alerts repeat them: inside
`message`, `process.command_line`, `process.args` and `kibana.alert.reason`, in arrays
(`related.ip`, `related.user`), and nested several levels deep.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

RULES = [
    ("Suspicious PowerShell Execution", "high", 73, "T1059.001", "Execution"),
    ("Credential Dumping via Mimikatz", "critical", 99, "T1003.001", "Credential Access"),
    ("Brute Force Login Attempts", "medium", 47, "T1110", "Credential Access"),
    ("Outbound Connection to Rare Domain", "low", 21, "T1071", "Command and Control"),
    ("Ransomware File Encryption Pattern", "critical", 95, "T1486", "Impact"),
    ("Lateral Movement via SMB", "high", 68, "T1021.002", "Lateral Movement"),
]
FIRST = ["alice", "bob", "carol", "dmitri", "erin", "farah", "gustav", "hana", "ivan", "jules"]
LAST = ["nguyen", "smith", "okafor", "schmidt", "garcia", "kowalski", "tanaka", "dubois"]
DOMAINS = ["corp.example", "acme.test", "contoso.internal"]
SITES = ["nyc", "fra", "sgp", "lon"]


def _host(rng: random.Random) -> str:
    if rng.random() < 0.03:  # very short host names exist, and must not eat free text
        return rng.choice("abcxyz")
    return f"srv-{rng.choice(['win', 'lin', 'db', 'web'])}-{rng.choice(SITES)}{rng.randint(1, 99):02d}"


def _ip(rng: random.Random, private: bool = True) -> str:
    if private:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def generate_alert(rng: random.Random, when: datetime) -> dict[str, Any]:
    rule, severity, risk, technique, tactic = rng.choice(RULES)
    host = _host(rng)
    user = f"{rng.choice(FIRST)}.{rng.choice(LAST)}"
    domain = rng.choice(DOMAINS)
    email = f"{user}@{domain}"
    source_ip, destination_ip = _ip(rng), _ip(rng, private=False)
    process = rng.choice(["powershell.exe", "cmd.exe", "rundll32.exe", "python3", "curl", "mimikatz.exe"])
    command_line = f"{process} -u {user} -h {host} --target {destination_ip} --report {email}"
    return {
        "@timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "_id": f"{rng.getrandbits(64):016x}",
        "kibana": {
            "alert": {
                "rule": {
                    "name": rule,
                    "description": f"Detects {rule.lower()}.",
                    "threat": [{"technique": {"id": technique}, "tactic": {"name": tactic}}],
                },
                "severity": severity,
                "risk_score": risk,
                "workflow_status": rng.choice(["open", "open", "acknowledged", "closed"]),
                "reason": f"process event with process {process}, by {user} on {host} created {severity} alert {rule}.",
            }
        },
        "event": {"category": ["process"], "action": "exec", "module": "endpoint", "outcome": "success"},
        "host": {
            "name": host,
            "hostname": host,
            "ip": [_ip(rng), _ip(rng)],
            "os": {"name": "Windows", "version": "10"},
        },
        "user": {"name": user, "email": email, "domain": domain.split(".")[0]},
        "source": {"ip": source_ip, "port": rng.randint(1024, 65535)},
        "destination": {"ip": destination_ip, "port": rng.choice([22, 443, 445, 3389, 8080])},
        "process": {
            "name": process,
            "pid": rng.randint(100, 65000),
            "command_line": command_line,
            "args": command_line.split(),
            "executable": f"C:\\Windows\\System32\\{process}",
            "parent": {"name": "explorer.exe"},
        },
        "related": {"ip": [source_ip, destination_ip], "user": [user], "hosts": [host]},
        "message": f"User {user} ({email}) ran {process} on {host} from {source_ip} to {destination_ip}",
    }


def generate_alerts(count: int, seed: int = 7, end: datetime | None = None) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    return [generate_alert(rng, end - timedelta(minutes=rng.randint(0, 24 * 60))) for _ in range(count)]


def leaves(document: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted field, scalar value) pairs, lists expanded."""
    for key, value in document.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from leaves(value, name)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from leaves(item, name)
                else:
                    yield name, item
        else:
            yield name, value
