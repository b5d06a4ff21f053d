"""Result columns inherit the anonymization rules of the fields they come from."""

from __future__ import annotations

import pytest

from vigil.anonymization import FieldPolicy, FieldRule
from vigil.esql.parser import parse
from vigil.investigation.lineage import Lineage, column_policy, counting_columns

BASE = FieldPolicy.from_rules(
    [
        FieldRule("host.name", allowed=True, anonymized=True),
        FieldRule("service.name", allowed=True, anonymized=False),
        FieldRule("@timestamp", allowed=True, anonymized=False),
        FieldRule("event.duration", allowed=True, anonymized=False),
        FieldRule("message", allowed=True, anonymized=False),
    ]
)


def decisions(query: str, columns: list[str]) -> dict[str, str]:
    policy = column_policy(columns, Lineage(parse(query), query), BASE)
    return {
        c: "anonymized" if policy.is_anonymized(c) else "clear" if policy.is_allowed(c) else "hidden" for c in columns
    }


@pytest.mark.parametrize(
    ("query", "columns", "expected"),
    [
        ("FROM l | KEEP host.name, service.name", ["host.name", "service.name"], ["anonymized", "clear"]),
        ("FROM l | RENAME host.name AS h", ["h"], ["anonymized"]),
        ('FROM l | EVAL h = CONCAT(host.name, "") | KEEP h', ["h"], ["anonymized"]),
        ("FROM l | STATS c = COUNT(*) BY h = host.name", ["c", "h"], ["clear", "anonymized"]),
        ("FROM l | STATS hosts = COUNT_DISTINCT(host.name)", ["hosts"], ["clear"]),
        ("FROM l | STATS latest = MAX(host.name)", ["latest"], ["anonymized"]),
        ("FROM l | STATS COUNT(*) BY service.name", ["COUNT(*)", "service.name"], ["clear", "clear"]),
        ("FROM l | STATS avg = AVG(event.duration) BY b = BUCKET(@timestamp, 1 hour)", ["avg", "b"], ["clear"] * 2),
        ("FROM l | KEEP user.name", ["user.name"], ["hidden"]),  # no rule: not sent
        ("FROM l | EVAL x = CONCAT(user.name, host.name)", ["x"], ["hidden"]),
        ('FROM l | DISSECT message "%{who} logged in" | KEEP who', ["who"], ["clear"]),
        ('FROM l | DISSECT host.name "%{site}-%{n}" | KEEP site', ["site"], ["anonymized"]),
        ('FROM l | GROK host.name "%{WORD:site}" | KEEP site', ["site"], ["anonymized"]),
        ("FROM l | EVAL a = 1 + 2", ["a"], ["clear"]),
        (
            "FROM l | STATS c = COUNT(*) BY host.name | RENAME host.name AS h | KEEP h, c",
            ["h", "c"],
            ["anonymized", "clear"],
        ),
    ],
)
def test_column_decisions(query: str, columns: list[str], expected: list[str]) -> None:
    assert list(decisions(query, columns).values()) == expected


def test_counting_columns_are_the_zero_when_empty_aggregates() -> None:
    query = (
        "FROM l | STATS n = COUNT(*), total = SUM(x), avg = AVG(x), COUNT_DISTINCT(y) BY b = BUCKET(@timestamp, 1 h)"
    )
    assert counting_columns(parse(query), query) == {"n", "total", "COUNT_DISTINCT(y)"}
    assert counting_columns(parse("FROM l | KEEP a"), "FROM l | KEEP a") == frozenset()
