"""Sends the demo data set to a running Vigil through its HTTP API, as any shipper would: `_bulk`
for the documents, the anonymization fields API for the fields the demo's questions need."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import httpx
import orjson

from vigil.demo.documents import DemoDocument

BULK_BATCH = 2000
KIBANA_HEADERS = {"elastic-api-version": "2023-10-31", "kbn-xsrf": "vigil-demo"}
ANONYMIZATION_BULK = "/api/security_ai_assistant/anonymization_fields/_bulk_action"
ANONYMIZATION_FIND = "/api/security_ai_assistant/anonymization_fields/_find"

# Fields of the demo's observability data the assistant may see (Kibana's defaults cover the
# security fields only, and Vigil sends no field without a rule). (field, anonymized)
DEMO_FIELD_RULES: tuple[tuple[str, bool], ...] = (
    ("service.name", False),
    ("service.environment", False),
    ("service.version", False),
    ("log.level", False),
    ("message", False),
    ("error.type", False),
    ("error.message", False),
    ("http.request.method", False),
    ("http.response.status_code", False),
    ("url.path", False),
    ("event.duration", False),
    ("system.cpu.total.norm.pct", False),
    ("system.memory.actual.used.pct", False),
    ("kibana.alert.reason", False),
    ("kibana.alert.status", False),
    ("kibana.alert.rule.category", False),
    ("kibana.alert.evaluation.value", False),
    ("kibana.alert.evaluation.threshold", False),
    ("client.ip", True),
)


class LoadError(Exception):
    """The server refused the data (authentication, rights, or a malformed request)."""


@dataclass
class LoadReport:
    created: int = 0
    existing: int = 0  # already loaded (same seed and end time): `create` answered 409
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # the first few distinct failure reasons
    fields_added: list[str] = field(default_factory=list)


def bulk_body(documents: Iterable[DemoDocument]) -> bytes:
    """NDJSON `create` actions: a second load of the same documents conflicts instead of duplicating."""
    lines: list[bytes] = []
    for document in documents:
        lines.append(orjson.dumps({"create": {"_index": document.index, "_id": document.id}}))
        lines.append(orjson.dumps(document.source))
    return b"\n".join(lines) + b"\n"


def _raise_for_status(response: httpx.Response, what: str) -> None:
    if response.status_code in (401, 403):
        raise LoadError(f"{what}: {response.status_code} {_reason(response)} (check --user/--password and the role)")
    if response.status_code >= 400:
        raise LoadError(f"{what}: {response.status_code} {_reason(response)}")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("reason") or error)
        return str(body.get("message") or error or body)
    return str(body)[:200]


def send_documents(
    client: httpx.Client,
    documents: Sequence[DemoDocument],
    report: LoadReport,
    advance: Callable[[int], None] = lambda _n: None,
    batch_size: int = BULK_BATCH,
) -> None:
    for start in range(0, len(documents), batch_size):
        batch = documents[start : start + batch_size]
        last = start + batch_size >= len(documents)
        response = client.post(
            "/_bulk",
            content=bulk_body(batch),
            headers={"content-type": "application/x-ndjson"},
            # The last batch waits for a refresh, so the data is searchable when the command ends.
            params={"refresh": "true"} if last else None,
        )
        _raise_for_status(response, "_bulk")
        for item in response.json().get("items", []):
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if status < 300:
                report.created += 1
            elif status == 409:
                report.existing += 1
            else:
                report.failed += 1
                reason = str((result.get("error") or {}).get("reason", status))
                if len(report.errors) < 5 and reason not in report.errors:
                    report.errors.append(reason)
        advance(len(batch))


def add_field_rules(client: httpx.Client, report: LoadReport, space: str | None = None) -> None:
    """Adds the demo's field rules the space does not have yet (existing rules are left alone:
    an administrator's decision wins)."""
    prefix = f"/s/{space}" if space and space != "default" else ""
    found = client.get(prefix + ANONYMIZATION_FIND, params={"per_page": 1000}, headers=KIBANA_HEADERS)
    _raise_for_status(found, "anonymization fields")
    existing = {item["field"] for item in found.json().get("data", [])}
    missing = [(name, anonymized) for name, anonymized in DEMO_FIELD_RULES if name not in existing]
    if not missing:
        return
    response = client.post(
        prefix + ANONYMIZATION_BULK,
        json={"create": [{"field": name, "allowed": True, "anonymized": anonymized} for name, anonymized in missing]},
        headers=KIBANA_HEADERS,
    )
    _raise_for_status(response, "anonymization fields")
    created = response.json().get("attributes", {}).get("results", {}).get("created", [])
    report.fields_added.extend(item["field"] for item in created)
