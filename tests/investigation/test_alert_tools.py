"""The alert tools over a real store: which alerts, in which order, which fields, and for whom."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from tests.investigation.support import NO_DATA, ago, alert, redactor, store_with, tool_context
from vigil.anonymization import Anonymizer, FieldPolicy
from vigil.chat.redaction import TurnRedactor
from vigil.errors import Forbidden
from vigil.investigation.alerts import (
    ALERT_COUNTS,
    OPEN_AND_ACKNOWLEDGED_ALERTS,
    AlertCountsArgs,
    OpenAlertsArgs,
    alert_counts,
    open_and_acknowledged_alerts,
)

ALERTS = ".alerts-security.alerts-default"


def alert_rows(text: str) -> list[dict[str, str]]:
    body = text.split("Alerts:\n", 1)[-1].split("</untrusted-data>", 1)[0]
    start = body.index("ref,")
    return list(csv.DictReader(io.StringIO(body[start:])))


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def queue():
    return store_with(
        [
            (ALERTS, "a-low", alert("Port scan", 21, severity="low")),
            (ALERTS, "a-critical", alert("LSASS dump", 99, severity="critical", when=ago(hours=3))),
            (ALERTS, "a-critical-newer", alert("Ransomware", 99, severity="critical", when=ago(hours=2))),
            (ALERTS, "a-high-acked", alert("PsExec", 73, status="acknowledged")),
            (ALERTS, "a-medium", alert("Brute force", 47, severity="medium")),
            (ALERTS, "a-closed", alert("Closed one", 99, status="closed")),
            (ALERTS, "a-old", alert("Yesterday's", 99, when=ago(hours=30))),
            (
                ALERTS,
                "a-building-block",
                alert("Building block", 99, **{"kibana.alert.building_block_type": "default"}),
            ),
            (".alerts-security.alerts-other", "x-other-space", alert("Other space", 99)),
        ]
    )


def test_the_most_relevant_open_and_acknowledged_alerts_first(tmp_path: Path, queue) -> None:
    context = tool_context(tmp_path, queue, alerts_to_analyze=3)
    text = run(open_and_acknowledged_alerts(context, OpenAlertsArgs()))
    rows = alert_rows(text)
    # Risk first, then newest; closed, older than 24 hours, building blocks and other spaces never.
    assert [row["kibana.alert.rule.name"] for row in rows] == ["Ransomware", "LSASS dump", "PsExec"]
    cited = [context.references.cited_in(f"{{reference({row['ref']})}}") for row in rows]
    assert [next(iter(c.values()))["alertId"] for c in cited] == ["a-critical-newer", "a-critical", "a-high-acked"]
    assert all(next(iter(c.values()))["type"] == "SecurityAlert" for c in cited)
    assert '<untrusted-data source="open_and_acknowledged_alerts">' in text


def test_the_model_may_ask_for_fewer_alerts_never_more(tmp_path: Path, queue) -> None:
    context = tool_context(tmp_path, queue, alerts_to_analyze=2)
    assert len(alert_rows(run(open_and_acknowledged_alerts(context, OpenAlertsArgs(size=50))))) == 2
    context = tool_context(tmp_path, queue, alerts_to_analyze=100)
    assert len(alert_rows(run(open_and_acknowledged_alerts(context, OpenAlertsArgs(size=1))))) == 1
    with pytest.raises(ValueError):
        OpenAlertsArgs(size=501)


def test_only_allowed_fields_and_anonymized_values(tmp_path: Path) -> None:
    secret = alert(
        "Exfiltration",
        99,
        host="srv-db-01",
        user="bob.smith",
        **{"host.ip": "10.0.0.9", "process": {"name": "rclone.exe"}, "custom": {"token": "hunter2-very-secret"}},
    )
    store = store_with([(ALERTS, "alert-id-7f3e9", secret)])
    privacy = redactor()
    context = tool_context(tmp_path, store, privacy=privacy)
    text = run(open_and_acknowledged_alerts(context, OpenAlertsArgs()))
    (row,) = alert_rows(text)
    for raw in ("srv-db-01", "bob.smith", "10.0.0.9", "hunter2-very-secret", "alert-id-7f3e9"):
        assert raw not in text
    assert privacy.anonymizer.deanonymize_text(row["host.name"]) == "srv-db-01"
    assert privacy.anonymizer.deanonymize_text(row["user.name"]) == "bob.smith"
    assert row["process.name"] == "rclone.exe"  # allowed, not anonymized
    assert "custom.token" not in row and "host.ip" not in row  # no rule / not allowed: never sent


def test_each_space_sees_its_own_alerts(tmp_path: Path, queue) -> None:
    other = run(open_and_acknowledged_alerts(tool_context(tmp_path, queue, space_id="other"), OpenAlertsArgs()))
    assert [row["kibana.alert.rule.name"] for row in alert_rows(other)] == ["Other space"]
    empty = run(open_and_acknowledged_alerts(tool_context(tmp_path, queue, space_id="third"), OpenAlertsArgs()))
    assert "no security alert index in this space" in empty


def test_observability_alerts(tmp_path: Path) -> None:
    store = store_with(
        [
            (
                ".alerts-observability.apm.alerts-default",
                "o1",
                {
                    "@timestamp": ago(hours=2),
                    "kibana.alert.rule.name": "Checkout error count",
                    "kibana.alert.workflow_status": "open",
                    "kibana.alert.status": "active",
                    "service": {"name": "checkout"},
                },
            )
        ]
    )
    text = run(open_and_acknowledged_alerts(tool_context(tmp_path, store), OpenAlertsArgs(source="observability")))
    assert [row["kibana.alert.rule.name"] for row in alert_rows(text)] == ["Checkout error count"]


def test_alert_counts_by_severity_and_status(tmp_path: Path, queue) -> None:
    context = tool_context(tmp_path, queue)
    text = run(alert_counts(context, AlertCountsArgs()))
    table = text.split('source="alert_counts">\n', 1)[1].split("\n</untrusted-data>", 1)[0]
    counts = {
        (row["kibana.alert.severity"], row["kibana.alert.workflow_status"]): int(row["count"])
        for row in csv.DictReader(io.StringIO(table))
    }
    assert counts == {
        ("low", "open"): 1,
        ("critical", "open"): 2,
        ("high", "acknowledged"): 1,
        ("medium", "open"): 1,
        ("high", "closed"): 1,
        ("high", "open"): 1,  # the building block counts as an alert here
    }
    assert "7 security alerts in the last 24 hours" in text


def test_callers_without_data_rights_get_no_alert_tools(tmp_path: Path, queue) -> None:
    assert not OPEN_AND_ACKNOWLEDGED_ALERTS.available(NO_DATA) and not ALERT_COUNTS.available(NO_DATA)
    with pytest.raises(Forbidden):
        run(open_and_acknowledged_alerts(tool_context(tmp_path, queue, principal=NO_DATA), OpenAlertsArgs()))


def test_rules_that_allow_no_field_show_no_alert(tmp_path: Path, queue) -> None:
    nothing = TurnRedactor(Anonymizer(), FieldPolicy.from_rules([]))
    text = run(open_and_acknowledged_alerts(tool_context(tmp_path, queue, privacy=nothing), OpenAlertsArgs()))
    assert text.startswith("The anonymization rules of this space allow no alert field")
    assert "Ransomware" not in text
