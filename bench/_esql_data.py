"""ECS-like events for the data plane benchmarks: deterministic, spread evenly over N days.

Each event looks like a web/auth log line a shipper would send: `@timestamp`, `event.*`,
`host.*`, `source.ip`, `user.name`, `service.name`, `http.*`, `url.path`, `message`, a few numbers and tags
(about 20 fields, ~450 bytes of JSON). Written as plain NDJSON (one document per line), the
form `vigil ingest --index` and DuckDB's `read_json` both take.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

HOSTS = [f"web-{i:02d}" for i in range(40)]
USERS = [f"user{i:04d}" for i in range(2000)]
PATHS = ["/", "/login", "/logout", "/api/orders", "/api/cart", "/search", "/products/42", "/admin"]
SERVICES = {
    "/api/orders": "checkout",
    "/api/cart": "checkout",
    "/login": "auth",
    "/logout": "auth",
    "/search": "search",
}
METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"]
STATUSES = [200, 200, 200, 200, 201, 204, 301, 302, 400, 401, 403, 404, 500, 503]
CATEGORIES = ["web", "authentication", "network", "process"]
OUTCOMES = ["success", "success", "success", "failure", "unknown"]
TAGS = ["prod", "eu-west", "canary", "pci", "edge"]
END = datetime(2024, 6, 1, tzinfo=UTC)


def events(count: int, days: int, seed: int = 7) -> Iterator[dict[str, object]]:
    """`count` events, time-ordered, evenly over the `days` days before 2024-06-01."""
    rng = random.Random(seed)
    start = END - timedelta(days=days)
    step_us = days * 86_400_000_000 // max(count, 1)
    for i in range(count):
        at = start + timedelta(microseconds=i * step_us + rng.randrange(step_us or 1))
        status = rng.choice(STATUSES)
        user = rng.choice(USERS)
        path = rng.choice(PATHS)
        method = rng.choice(METHODS)
        yield {
            "@timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "event": {
                "category": rng.choice(CATEGORIES),
                "outcome": "failure" if status >= 400 else rng.choice(OUTCOMES),
                "duration": rng.randrange(50_000, 5_000_000),
                "dataset": "nginx.access",
            },
            "host": {"name": rng.choice(HOSTS), "ip": f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}"},
            "source": {"ip": f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"},
            "user": {"name": user},
            "http": {
                "request": {"method": method},
                "response": {"status_code": status, "bytes": rng.randrange(200, 90_000)},
            },
            "url": {"path": path},
            "service": {"name": SERVICES.get(path, "frontend")},
            "message": f"{method} {path} HTTP/1.1 {status} user={user}",
            "tags": rng.sample(TAGS, rng.randrange(1, 3)),
            "latency_ms": round(rng.random() * 900, 3),
        }


def write_ndjson(path: Path, count: int, days: int) -> int:
    """Writes the events as one JSON document per line; returns the file size in bytes."""
    with path.open("wb") as out:
        buffer = bytearray()
        for event in events(count, days):
            buffer += orjson.dumps(event)
            buffer += b"\n"
            if len(buffer) > 1 << 20:
                out.write(buffer)
                buffer.clear()
        out.write(buffer)
    return path.stat().st_size
