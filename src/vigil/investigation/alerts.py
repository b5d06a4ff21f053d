"""Alert tools: the open and acknowledged alerts that matter most, and alert counts.

As Kibana's OpenAndAcknowledgedAlertsTool: the space's alerts of the last 24 hours whose
workflow status is open or acknowledged (building-block alerts left out), highest
`kibana.alert.risk_score` first, then newest; at most "alerts to analyze" of them (Kibana's
default 100, its settings allow up to 500); only the fields the space's anonymization rules
allow, anonymized as they say. Each alert is registered as a `SecurityAlert` citation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from anyio import to_thread
from pydantic import BaseModel, Field

from vigil.agent.tools import AssistantTool, ToolContext
from vigil.datasource import DataIndex, DataSource
from vigil.esql.printer import name as field_name
from vigil.investigation.access import (
    may_read,
    observability_alerts_pattern,
    reads_data,
    require_data_read,
    security_alerts_index,
)
from vigil.investigation.esql_runner import require_parts, rows_of, run_authorized
from vigil.investigation.framing import frame
from vigil.investigation.tables import render_table

# Kibana's MAX_LATEST_ALERTS (the top of its settings slider); its default, 100, is the
# `assistant_alerts_to_analyze` setting's.
MAX_ALERTS_TO_ANALYZE = 500
ALERT_WINDOW_HOURS = 24

AlertSource = Literal["security", "observability"]
# Shown first, in this order, when the rules allow them: what an analyst reads first.
_LEADING = (
    "@timestamp",
    "kibana.alert.rule.name",
    "kibana.alert.severity",
    "kibana.alert.risk_score",
    "kibana.alert.workflow_status",
    "kibana.alert.status",
    "kibana.alert.reason",
    "host.name",
    "user.name",
    "service.name",
)


def alert_indices(data: DataSource, space_id: str, source: AlertSource) -> list[DataIndex]:
    pattern = security_alerts_index(space_id) + "*" if source == "security" else observability_alerts_pattern(space_id)
    return [info for info in data.resolve(pattern) if may_read(info.name, space_id)]


def _fields(indices: Sequence[DataIndex]) -> set[str]:
    return {name for info in indices for name in info.fields}


# Allowed, but repeating what other fields say: left out to spare tokens.
_REDUNDANT = ("kibana.alert.last_detected", "kibana.alert.rule.threat.framework", "process.entity_id")


def _worth_sending(field: str, fields: set[str]) -> bool:
    if field in _REDUNDANT or field.endswith(".reference"):  # ATT&CK links follow from the ids
        return False
    return not (field == "process.args" and "process.command_line" in fields)


def _ordered(fields: set[str]) -> list[str]:
    fields = {f for f in fields if _worth_sending(f, fields)}
    return [f for f in _LEADING if f in fields] + sorted(fields - set(_LEADING))


def open_alerts_query(indices: Sequence[DataIndex], keep: Sequence[str], size: int, hours: int) -> str:
    fields = _fields(indices)
    conditions = [
        'kibana.alert.workflow_status IN ("open", "acknowledged")',
        f"@timestamp >= NOW() - {hours} hours",
    ]
    if "kibana.alert.building_block_type" in fields:
        conditions.append("kibana.alert.building_block_type IS NULL")
    sort = ["@timestamp DESC"]
    if "kibana.alert.risk_score" in fields:
        sort.insert(0, "kibana.alert.risk_score DESC")
    return (
        f"FROM {','.join(info.name for info in indices)} METADATA _id"
        f" | WHERE {' AND '.join(conditions)}"
        f" | SORT {', '.join(sort)}"
        f" | LIMIT {size}"
        f" | KEEP _id, {', '.join(field_name(f) for f in keep)}"
    )


class OpenAlertsArgs(BaseModel):
    source: AlertSource = Field(
        "security", description="security: detection alerts; observability: APM, log and metric rule alerts."
    )
    size: int | None = Field(
        None,
        ge=1,
        le=MAX_ALERTS_TO_ANALYZE,
        description="How many alerts at most; never more than the analyst's 'alerts to analyze' setting.",
    )


async def open_and_acknowledged_alerts(context: ToolContext, args: OpenAlertsArgs) -> str:
    parts = require_parts(context)
    require_data_read(context.principal)
    indices = await to_thread.run_sync(alert_indices, parts.source, context.space_id, args.source)
    if not indices:
        return f"There is no {args.source} alert index in this space yet, so there are no alerts to analyze."
    policy = parts.privacy.policy
    keep = _ordered({f for f in _fields(indices) if policy.is_allowed(f) and f != "_id"})
    size = min(args.size or context.alerts_to_analyze, context.alerts_to_analyze, MAX_ALERTS_TO_ANALYZE)
    if "@timestamp" not in _fields(indices) or "kibana.alert.workflow_status" not in _fields(indices):
        return "The alert indices of this space have no alerts with @timestamp and a workflow status yet."
    if not keep:
        return "The anonymization rules of this space allow no alert field to be sent, so no alert can be shown."
    result = await run_authorized(context, parts.source, open_alerts_query(indices, keep, size, ALERT_WINDOW_HOURS))
    rows = rows_of(result)
    if not rows:
        return f"No open or acknowledged {args.source} alerts in the last {ALERT_WINDOW_HOURS} hours."
    documents = parts.privacy.anonymize_documents([{k: v for k, v in row.items() if k != "_id"} for row in rows])
    table_rows = []
    for row, document in zip(rows, documents, strict=True):
        reference = context.references.add("SecurityAlert", alertId=str(row["_id"]))
        table_rows.append({"ref": reference, **document})
    note = (
        f"{len(rows)} open or acknowledged {args.source} alerts of the last {ALERT_WINDOW_HOURS} hours, "
        f"highest risk first (at most {size}). Cite an alert you rely on as {{reference(REF)}} with its ref."
    )
    return frame("open_and_acknowledged_alerts", _alerts_and_rules(table_rows, keep), note=note)


_RULE_NAME = "kibana.alert.rule.name"


def _alerts_and_rules(rows: list[dict[str, Any]], keep: list[str]) -> str:
    """The alerts, with what belongs to their rule (description, ATT&CK mapping) said once per
    rule in a table of its own instead of on every alert."""
    rule_fields = [f for f in keep if f.startswith("kibana.alert.rule.") and f != _RULE_NAME]
    if _RULE_NAME not in keep or not rule_fields:
        return render_table(rows, ["ref", *keep], hoist_constants=True)
    rules: dict[str, dict[str, Any]] = {}
    for row in rows:
        rules.setdefault(_cell_key(row.get(_RULE_NAME)), {f: row.get(f) for f in [_RULE_NAME, *rule_fields]})
    alert_fields = [f for f in keep if f not in rule_fields]
    return (
        "Rules:\n"
        + render_table(list(rules.values()), [_RULE_NAME, *rule_fields])
        + "\nAlerts:\n"
        + render_table(rows, ["ref", *alert_fields], hoist_constants=True)
    )


def _cell_key(value: Any) -> str:
    return "|".join(map(str, value)) if isinstance(value, list) else str(value)


class AlertCountsArgs(BaseModel):
    source: AlertSource = Field("security", description="security or observability alerts.")
    hours: int = Field(ALERT_WINDOW_HOURS, ge=1, le=24 * 90, description="Count the alerts of the last N hours.")


async def alert_counts(context: ToolContext, args: AlertCountsArgs) -> str:
    parts = require_parts(context)
    require_data_read(context.principal)
    indices = await to_thread.run_sync(alert_indices, parts.source, context.space_id, args.source)
    fields = _fields(indices)
    if not indices or "@timestamp" not in fields:
        return f"There is no {args.source} alert index in this space yet."
    groups = [f for f in ("kibana.alert.severity", "kibana.alert.workflow_status") if f in fields]
    query = (
        f"FROM {','.join(info.name for info in indices)}"
        f" | WHERE @timestamp >= NOW() - {args.hours} hours"
        f" | STATS count = COUNT(*)" + (f" BY {', '.join(groups)}" if groups else "")
    )
    rows = rows_of(await run_authorized(context, parts.source, query))
    # Severity and status are allowed by Kibana's default rules; whatever the rules say wins.
    shown = parts.privacy.anonymize_documents([{g: row.get(g) for g in groups} for row in rows])
    lines = [{**document, "count": row["count"]} for row, document in zip(rows, shown, strict=True)]
    lines.sort(key=lambda line: -int(line["count"] or 0))
    total = sum(int(row["count"] or 0) for row in rows)
    reference = context.references.add("SecurityAlertsPage")
    note = (
        f"{total} {args.source} alerts in the last {args.hours} hours, counted by "
        f"{' and '.join(groups) or 'nothing'}. Cite as {{reference({reference})}}."
    )
    return frame("alert_counts", render_table(lines, [*groups, "count"]), note=note)


OPEN_AND_ACKNOWLEDGED_ALERTS = AssistantTool(
    name="open_and_acknowledged_alerts",
    description=(
        "The latest open and acknowledged alerts of the last 24 hours in this space, highest risk score "
        "first: call it for questions about open alerts, which alerts to look at first, or what to do next."
    ),
    parameters=OpenAlertsArgs,
    handler=open_and_acknowledged_alerts,
    available=reads_data,
)

ALERT_COUNTS = AssistantTool(
    name="alert_counts",
    description="Counts of this space's alerts by severity and workflow status (open, acknowledged, closed).",
    parameters=AlertCountsArgs,
    handler=alert_counts,
    available=reads_data,
)
