"""Natural language to ES|QL: what the writing model is shown, the repair loop, and what the
conversation gets back."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from tests.investigation.support import ScriptedWriter, ago, redactor, store_with, tool_context
from vigil.investigation.nl_esql import NaturalLanguageEsqlArgs, extract_query, natural_language_esql

LOGS = "logs-services-default"


@pytest.fixture
def store():
    documents = []
    for i, (service, level, host, user) in enumerate(
        [
            ("checkout", "error", "k8s-node-2", "alice.nguyen"),
            ("checkout", "error", "k8s-node-2", "bob.smith"),
            ("checkout", "info", "k8s-node-2", "alice.nguyen"),
            ("cart", "error", "k8s-node-1", "carol.okafor"),
            ("cart", "info", "k8s-node-1", "carol.okafor"),
        ]
    ):
        source = {
            "@timestamp": ago(hours=i + 1),
            "service": {"name": service},
            "log": {"level": level},
            "host": {"name": host},
            "user": {"name": user},
            "message": f"request {i}",
        }
        documents.append((LOGS, None, source))
    documents.append(("metrics-system-default", None, {"@timestamp": ago(hours=1), "system": {"cpu": {"pct": 0.5}}}))
    return store_with(documents)


def result_rows(text: str) -> list[dict[str, str]]:
    table = text.split(">\n", 1)[1].split("\n</untrusted-data>", 1)[0]
    return list(csv.DictReader(io.StringIO(table)))


def ask(context, question: str, query: str | None = None) -> str:
    return asyncio.run(natural_language_esql(context, NaturalLanguageEsqlArgs(question=question, query=query)))


@pytest.mark.parametrize(
    ("reply", "query"),
    [
        ("```esql\nFROM a | LIMIT 1\n```", "FROM a | LIMIT 1"),
        ("Here you go:\n```\nFROM a\n| STATS c = COUNT(*);\n```\nDone.", "FROM a\n| STATS c = COUNT(*)"),
        ("The query is:\nFROM a | WHERE b > 1", "FROM a | WHERE b > 1"),
        ("```ESQL\nROW a = 1\n```", "ROW a = 1"),
        ("I cannot answer that.", None),
    ],
)
def test_extract_query(reply: str, query: str | None) -> None:
    assert extract_query(reply) == query


def test_errors_go_back_to_the_model_until_a_query_runs(tmp_path: Path, store) -> None:
    writer = ScriptedWriter(
        '```esql\nFROM logs-services-default | WHERE level == "error" | STATS c = COUNT(*)\n```',
        '```esql\nFROM logs-services-default | WHERE log.level == "error" | STATS errors = COUNT(*) BY service.name'
        " | SORT errors DESC\n```",
    )
    context = tool_context(tmp_path, store, ask_model=writer, privacy=redactor([("service.name", True, False)]))
    text = ask(context, "How many errors per service?")
    assert [row for row in result_rows(text)] == [
        {"errors": "2", "service.name": "checkout"},
        {"errors": "1", "service.name": "cart"},
    ]
    assert "attempt 2" in text and "```esql\nFROM logs-services-default | WHERE log.level" in text
    # The second prompt carried the first query and Elasticsearch's error for it.
    repair = writer.prompts[1][1]
    assert 'WHERE level == "error"' in repair and "Unknown column [level]" in repair
    (reference,) = context.references.cited_in(text.split("cite it as ", 1)[1].split(",", 1)[0]).values()
    assert reference["type"] == "EsqlQuery" and reference["query"].startswith("FROM logs-services-default | WHERE log")


def test_attempts_are_bounded(tmp_path: Path, store) -> None:
    writer = ScriptedWriter("FROM nowhere | LIMIT 1", "no idea", "FROM logs-services-default | EVAL x = nope")
    context = tool_context(tmp_path, store, ask_model=writer, esql_tool_max_attempts=3)
    text = ask(context, "anything")
    assert text.startswith("No working ES|QL query after 3 attempts (limit 3).")
    assert "Unknown column [nope]" in text and len(writer.prompts) == 3
    assert "the answer contains no ES|QL query" in writer.prompts[2][1]


def test_a_query_the_model_already_wrote_runs_without_a_side_request(tmp_path: Path, store) -> None:
    writer = ScriptedWriter()
    context = tool_context(tmp_path, store, ask_model=writer)
    text = ask(context, "errors", 'FROM logs-services-default | WHERE log.level == "error" | STATS n = COUNT(*)')
    assert result_rows(text) == [{"n": "3"}] and writer.prompts == []


def test_result_columns_are_anonymized_as_their_source_fields(tmp_path: Path, store) -> None:
    privacy = redactor()
    context = tool_context(tmp_path, store, privacy=privacy)
    query = "FROM logs-services-default | STATS n = COUNT(*) BY h = host.name, s = service.name | SORT n DESC"
    text = ask(context, "per host", query)
    rows = result_rows(text)
    assert "k8s-node-2" not in text and "k8s-node-1" not in text
    assert {privacy.anonymizer.deanonymize_text(row["h"]) for row in rows} == {"k8s-node-1", "k8s-node-2"}
    # service.name has no rule in Kibana's defaults: the column is hidden, and the model is told.
    assert all("s" not in row for row in rows) and "columns hidden by the anonymization rules: s" in text


def test_only_the_first_rows_reach_the_model(tmp_path: Path, store) -> None:
    context = tool_context(tmp_path, store, esql_tool_max_rows=2, privacy=redactor([("message", True, False)]))
    text = ask(context, "messages", "FROM logs-services-default | SORT @timestamp DESC | KEEP message")
    assert len(result_rows(text)) == 2 and "5 rows, the first 2 below" in text


def test_the_writer_sees_relevant_metadata_and_only_allowed_values(tmp_path: Path, store) -> None:
    writer = ScriptedWriter('```esql\nFROM logs-services-default | WHERE service.name == "checkout" | LIMIT 1\n```')
    privacy = redactor([("service.name", True, False), ("log.level", True, False)])
    context = tool_context(tmp_path, store, ask_model=writer, privacy=privacy)
    ask(context, "How many checkout errors in the last day?")
    instructions, prompt = writer.prompts[0]
    assert "ES|QL essentials" in instructions and "Current time:" in instructions
    assert "- logs-services-default" in prompt and "- metrics-system-default" in prompt
    fields = prompt.split("Fields of logs-services-default", 1)[1]
    assert "- service.name keyword values: cart, checkout" in fields
    assert "- log.level keyword values: error, info" in fields
    assert "(the question's checkout is a value of this field)" in fields
    # host.name is anonymized and user.name not allowed: their values never reach the writer.
    for value in ("k8s-node-1", "k8s-node-2", "alice.nguyen", "carol.okafor"):
        assert value not in prompt
