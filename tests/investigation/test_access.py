"""Which indices a query from the assistant may read: ordinary ones, and the caller's space's alerts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.investigation.support import NO_DATA, ago, alert, store_with, tool_context
from vigil.datasource import EmbeddedDataSource
from vigil.errors import BadRequest, Forbidden
from vigil.investigation.access import may_read, readable_indices
from vigil.investigation.esql_runner import rows_of, run_authorized


@pytest.mark.parametrize(
    ("name", "space", "allowed"),
    [
        ("logs-services-default", "default", True),
        (".alerts-security.alerts-default", "default", True),
        (".alerts-security.alerts-default", "team-a", False),
        (".alerts-security.alerts-team-a", "team-a", True),
        (".alerts-security.alerts-my-team-a", "team-a", False),
        (".alerts-observability.apm.alerts-team-a", "team-a", True),
        (".alerts-observability.apm.alerts-my-team-a", "team-a", False),
        (".alerts-observability.logs.alerts-default", "default", True),
        (".kibana", "default", False),
        (".internal.alerts-security.alerts-default-000001", "default", False),
    ],
)
def test_may_read(name: str, space: str, allowed: bool) -> None:
    assert may_read(name, space) is allowed


@pytest.fixture
def store():
    return store_with(
        [
            ("logs-app-default", None, {"@timestamp": ago(hours=1), "message": "ok"}),
            (".alerts-security.alerts-default", "d1", alert("Mine", 50)),
            (".alerts-security.alerts-other", "o1", alert("Theirs", 50)),
            (".vigil-secrets", None, {"@timestamp": ago(hours=1), "token": "x"}),
        ]
    )


def test_readable_indices_of_a_space(store) -> None:
    names = [info.name for info in readable_indices(EmbeddedDataSource(store), "default")]
    assert names == ["logs-app-default", ".alerts-security.alerts-default"]


def test_queries_reach_only_what_the_caller_may_read(tmp_path: Path, store) -> None:
    context = tool_context(tmp_path, store)

    def run(query: str):
        return asyncio.run(run_authorized(context, EmbeddedDataSource(store), query))

    assert rows_of(run("FROM .alerts-security.alerts-default | KEEP kibana.alert.rule.name")) == [
        {"kibana.alert.rule.name": "Mine"}
    ]
    assert len(run("FROM * | STATS n = COUNT(*)").values) == 1  # `*` leaves hidden indices out
    for query in (
        "FROM .alerts-security.alerts-other | LIMIT 1",
        "FROM .alerts-* | LIMIT 1",  # a wildcard reaching another space is refused, not narrowed
        "FROM logs-app-default, .vigil-secrets | LIMIT 1",
        "FROM logs-app-default | LOOKUP JOIN .alerts-security.alerts-other ON message",
    ):
        with pytest.raises(Forbidden):
            run(query)
    with pytest.raises(BadRequest):
        run("FROM remote:logs-* | LIMIT 1")
    with pytest.raises(BadRequest):
        run("FROM logs-app-default | ENRICH hosts ON message")
    with pytest.raises(Forbidden):
        context = tool_context(tmp_path, store, principal=NO_DATA)
        asyncio.run(run_authorized(context, EmbeddedDataSource(store), "FROM logs-app-default"))
