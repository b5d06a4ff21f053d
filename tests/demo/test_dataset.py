"""The demo data set: reproducible, internally consistent, and telling the stories it promises."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from vigil.demo import world
from vigil.demo.dataset import generate
from vigil.demo.documents import DemoDocument

END = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)


def when(document: DemoDocument) -> datetime:
    return datetime.fromisoformat(document.timestamp.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def documents() -> list[DemoDocument]:
    return generate(seed=2024, end=END)


def of(documents: list[DemoDocument], index: str) -> list[DemoDocument]:
    return [d for d in documents if d.index == index]


def test_the_same_seed_and_end_give_the_same_documents(documents) -> None:
    assert generate(seed=2024, end=END) == documents
    other = generate(seed=7, end=END)
    assert {d.id for d in other}.isdisjoint({d.id for d in documents})
    assert [d.source for d in of(other, world.SERVICE_LOGS_INDEX)][:50] != [
        d.source for d in of(documents, world.SERVICE_LOGS_INDEX)
    ][:50]


def test_ids_are_unique_and_times_within_the_week(documents) -> None:
    assert len({(d.index, d.id) for d in documents}) == len(documents)
    assert all(END - timedelta(days=7) <= when(d) <= END + timedelta(minutes=10) for d in documents)
    counts = Counter(d.index for d in documents)
    assert counts[world.SECURITY_ALERTS_INDEX] > 100 and counts[world.SERVICE_LOGS_INDEX] > 5000


def test_every_alert_names_the_event_behind_it(documents) -> None:
    events = {(d.index, d.id): d for d in documents if not d.index.startswith(".alerts")}
    for alert in of(documents, world.SECURITY_ALERTS_INDEX):
        (ancestor,) = alert.source["kibana.alert.ancestors"]
        event = events[(ancestor["index"], ancestor["id"])]
        assert event.source["host"]["name"] == alert.source["host"]["name"]
        assert event.timestamp == alert.source["kibana.alert.original_time"] and when(event) <= when(alert)
        assert alert.source["kibana.alert.uuid"] == alert.id
        threat = alert.source["kibana.alert.rule.threat"][0]
        assert threat["framework"] == "MITRE ATT&CK" and threat["technique"][0]["id"].startswith("T")


def test_the_last_day_holds_the_attacks(documents) -> None:
    recent = [a.source for a in of(documents, world.SECURITY_ALERTS_INDEX) if when(a) >= END - timedelta(hours=24)]
    open_critical = {
        a["kibana.alert.rule.name"]
        for a in recent
        if a["kibana.alert.severity"] == "critical" and a["kibana.alert.workflow_status"] == "open"
    }
    assert open_critical == {
        "LSASS Memory Dump via Comsvcs.dll",
        "Volume Shadow Copy Deletion via VssAdmin",
        "Ransomware Behavior - Mass File Encryption",
    }
    assert all(a["kibana.alert.workflow_status"] in ("open", "acknowledged") for a in recent)
    brute = [
        d.source
        for d in of(documents, world.AUTH_INDEX)
        if d.source["source"]["ip"] == world.BRUTE_FORCE_IP and d.source["host"]["name"] == "bastion-01"
    ]
    assert Counter(s["event"]["outcome"] for s in brute) == {"failure": 240, "success": 1}


def test_checkout_errors_peak_during_the_incident(documents) -> None:
    errors = [
        when(d)
        for d in of(documents, world.SERVICE_LOGS_INDEX)
        if d.source["service"]["name"] == "checkout" and d.source["log"]["level"] == "error"
    ]
    during = sum(1 for t in errors if END - timedelta(hours=9) <= t < END - timedelta(hours=6))
    rest_of_day = sum(1 for t in errors if END - timedelta(hours=24) <= t < END - timedelta(hours=9))
    assert during >= 20 and during > 4 * rest_of_day


def test_numbers_keep_their_types(documents) -> None:
    for document in of(documents, world.METRICS_INDEX)[:500]:
        pct = document.source["system"]["cpu"]["total"]["norm"]["pct"]
        assert isinstance(pct, float) and 0 < pct <= 1
    assert all(isinstance(d.source["event"]["duration"], int) for d in of(documents, world.SERVICE_LOGS_INDEX))
