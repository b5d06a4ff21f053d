"""The assistant's data tools over the Elasticsearch data source: the same tool code reads the peer
through the cluster client as it reads the embedded store, with the caller's rights checked first."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest

from tests.conftest import ADMIN_USER
from tests.datasource.conftest import OTHER_SPACE_ALERTS, STREAM, Peer
from tests.investigation.support import ANALYST, ScriptedWriter, redactor
from vigil.agent.tools import ToolContext
from vigil.chat.redaction import TurnRedactor
from vigil.datasource import DataSource
from vigil.datasource.elasticsearch import ElasticsearchDataSource
from vigil.db.engine import Database
from vigil.errors import Forbidden
from vigil.investigation.alerts import OpenAlertsArgs, open_and_acknowledged_alerts
from vigil.investigation.esql_runner import run_authorized
from vigil.investigation.nl_esql import NaturalLanguageEsqlArgs, natural_language_esql
from vigil.settings import Settings


def context_over(
    source: DataSource, tmp_path: Path, privacy: TurnRedactor, writer: ScriptedWriter, **configured: object
) -> ToolContext:
    settings = Settings(data_dir=tmp_path, **configured)
    return ToolContext(
        ANALYST, "default", None, Database(settings), settings, data_source=source, privacy=privacy, ask_model=writer
    )


def result_rows(text: str) -> list[dict[str, str]]:
    table = text.split(">\n", 1)[1].split("\n</untrusted-data>", 1)[0]
    return list(csv.DictReader(io.StringIO(table)))


def test_nl_to_esql_repairs_and_answers_through_the_cluster(
    cluster: ElasticsearchDataSource, peer: Peer, tmp_path: Path
) -> None:
    answers = {}
    prompts = {}
    for name, source in (("cluster", cluster), ("embedded", peer.source)):
        writer = ScriptedWriter(
            f'```esql\nFROM {STREAM} | WHERE level == "error" | STATS c = COUNT(*)\n```',
            f'```esql\nFROM {STREAM} | WHERE log.level == "error" | STATS errors = COUNT(*) BY service.name'
            " | SORT service.name\n```",
        )
        privacy = redactor([("service.name", True, False), ("log.level", True, False)])
        context = context_over(source, tmp_path, privacy, writer)
        args = NaturalLanguageEsqlArgs(question="How many errors per service?")
        answers[name] = asyncio.run(natural_language_esql(context, args))
        prompts[name] = writer.prompts
    assert result_rows(answers["cluster"]) == [
        {"errors": "1", "service.name": "cart"},
        {"errors": "1", "service.name": "checkout"},
    ]
    assert result_rows(answers["cluster"]) == result_rows(answers["embedded"])
    # The writer saw the cluster's indices, fields and small keyword values, and the cluster's error.
    first, repair = prompts["cluster"][0][1], prompts["cluster"][1][1]
    assert f"- {STREAM}" in first and "- service.name keyword values: cart, checkout" in first
    assert "Unknown column [level]" in repair
    # The same prompts as over the embedded store, but for what Elasticsearch does not record.
    embedded_first = prompts["embedded"][0][1]
    assert "- tags keyword (multi-valued)" in embedded_first and "- tags keyword\n" in first
    assert first == embedded_first.replace(" (multi-valued)", "")
    assert repair == prompts["embedded"][1][1].replace(" (multi-valued)", "")


def test_alert_tool_reads_the_clusters_alerts(cluster: ElasticsearchDataSource, tmp_path: Path) -> None:
    context = context_over(cluster, tmp_path, redactor(), ScriptedWriter())
    text = asyncio.run(open_and_acknowledged_alerts(context, OpenAlertsArgs()))
    assert "2 open or acknowledged security alerts of the last 24 hours" in text
    assert text.index("Credential dumping") < text.index("Port scan")  # highest risk first
    assert "dc-01" not in text  # host.name is anonymized by Kibana's default rules


def test_queries_reaching_another_spaces_alerts_are_refused_before_the_cluster_is_asked(
    cluster: ElasticsearchDataSource, tmp_path: Path
) -> None:
    context = context_over(cluster, tmp_path, redactor(), ScriptedWriter())
    with pytest.raises(Forbidden, match=re.escape(OTHER_SPACE_ALERTS)):
        asyncio.run(run_authorized(context, cluster, "FROM .alerts-security.alerts-* | STATS n = COUNT(*)"))


def test_a_refused_cluster_is_the_tools_error_too(peer: Peer, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        data_source="elasticsearch",
        elasticsearch_url=peer.url,
        elasticsearch_username=ADMIN_USER,
        elasticsearch_password="wrong-password",
    )
    source = ElasticsearchDataSource.from_settings(settings)
    writer = ScriptedWriter()
    context = context_over(source, tmp_path, redactor(), writer, esql_tool_max_attempts=1)
    args = NaturalLanguageEsqlArgs(question="errors", query=f"FROM {STREAM} | STATS n = COUNT(*)")
    text = asyncio.run(natural_language_esql(context, args))
    source.close()
    assert text.startswith("No working ES|QL query after 1 attempts")
    assert "rejected Vigil's credentials" in text and "wrong-password" not in text
