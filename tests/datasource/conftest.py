"""Two real Vigil servers: a peer on its embedded store, loaded through `_bulk`, which plays the
Elasticsearch cluster; and a front configured with `VIGIL_DATA_SOURCE=elasticsearch` pointing at
it. The peer's own data source (the app's, in this process) is what the forwarded answers must
equal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.investigation.support import alert
from tests.support.clients import kibana_client
from tests.support.server import running_app, running_server
from vigil.datasource import DataSource, open_data_source
from vigil.datasource.elasticsearch import ElasticsearchDataSource
from vigil.settings import Settings
from vigil.web.app import create_app

WEB = "web"
STREAM = "logs-checkout-default"
ALERTS = ".alerts-security.alerts-default"
WEB_MAPPING = {
    "properties": {
        "@timestamp": {"type": "date"},
        "host": {"properties": {"name": {"type": "keyword"}, "ip": {"type": "ip"}}},
        "http": {"properties": {"status": {"type": "integer"}, "bytes": {"type": "long"}}},
        "latency": {"type": "double"},
        "ok": {"type": "boolean"},
        "message": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
    }
}
WEB_DOCS: list[dict[str, Any]] = [
    {
        "@timestamp": "2024-05-01T10:00:00Z",
        "host": {"name": "web-1", "ip": "10.0.0.1"},
        "http": {"status": 200, "bytes": 1200},
        "latency": 0.25,
        "ok": True,
        "message": "GET /cart",
    },
    {
        "@timestamp": "2024-05-01T10:30:00Z",
        "host": {"name": "web-2", "ip": "10.0.0.2"},
        "http": {"status": 500, "bytes": 90},
        "latency": 2.5,
        "ok": False,
        "message": 'POST /pay failed: "card declined", retry',
    },
    {
        "@timestamp": "2024-05-01T11:15:00Z",
        "host": {"name": "web-1", "ip": "10.0.0.1"},
        "http": {"status": 404, "bytes": 310},
        "latency": 0.05,
        "ok": True,
        "message": "GET /favicon.ico",
    },
]
# Dynamically mapped: nested objects, arrays (multi-values), a data stream.
STREAM_DOCS: list[dict[str, Any]] = [
    {
        "@timestamp": "2024-05-01T10:05:00Z",
        "service": {"name": "checkout"},
        "log": {"level": "error"},
        "tags": ["pay", "eu"],
        "message": "payment timeout",
    },
    {
        "@timestamp": "2024-05-01T10:06:00Z",
        "service": {"name": "checkout"},
        "log": {"level": "info"},
        "tags": "eu",
        "message": "order placed",
    },
    {"@timestamp": "2024-05-01T10:07:00Z", "service": {"name": "cart"}, "log": {"level": "error"}, "message": "oops"},
]
ALERT_DOCS: list[dict[str, Any]] = [
    {
        "@timestamp": "2024-05-01T10:10:00Z",
        "kibana": {"alert": {"rule": {"name": "Brute force"}, "severity": "high", "workflow_status": "open"}},
        "host": {"name": "web-2"},
    }
]
OTHER_SPACE_ALERTS = ".alerts-security.alerts-finance"


def recent_alerts() -> list[dict[str, Any]]:
    """Alerts of the last hour (the alert tool looks at 24 hours), highest risk on the first."""
    return [alert("Credential dumping", 91, host="dc-01"), alert("Port scan", 21)]


@dataclass(frozen=True)
class Peer:
    url: str
    app: FastAPI

    @property
    def source(self) -> DataSource:
        """The peer's own data source: what a forwarded query must answer like."""
        return self.app.state.data_source  # type: ignore[no-any-return]


def bulk_load(client: httpx.Client, index: str, documents: list[dict[str, Any]], action: str = "index") -> None:
    lines: list[str] = []
    for document in documents:
        lines += [json.dumps({action: {}}), json.dumps(document)]
    response = client.post(
        f"/{index}/_bulk", content="\n".join(lines) + "\n", headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200 and not response.json()["errors"], response.text


def server_settings(settings: Settings, data_dir: Path, **changes: Any) -> Settings:
    # The session's settings (database, admin, key) on a data directory of its own, without the
    # knowledge base's start-up work, which these tests do not use.
    return settings.model_copy(update={"data_dir": data_dir, "knowledge_base_auto_setup": False, **changes})


@pytest.fixture(scope="package")
def peer(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    app = create_app(server_settings(settings, tmp_path_factory.mktemp("peer")))
    with running_app(app) as url:
        with kibana_client(url, auth=(ADMIN_USER, ADMIN_PASSWORD)) as admin:
            assert admin.put(f"/{WEB}", json={"mappings": WEB_MAPPING}).status_code == 200
            bulk_load(admin, WEB, WEB_DOCS)
            bulk_load(admin, STREAM, STREAM_DOCS, action="create")
            bulk_load(admin, ALERTS, ALERT_DOCS + recent_alerts())
            bulk_load(admin, OTHER_SPACE_ALERTS, [alert("Other space", 50)])
        yield Peer(url, app)


def cluster_settings(url: str, tmp_path: Path, **credentials: Any) -> Settings:
    if not credentials:
        credentials = {"elasticsearch_username": ADMIN_USER, "elasticsearch_password": ADMIN_PASSWORD}
    return Settings(
        data_dir=tmp_path,
        data_source="elasticsearch",
        elasticsearch_url=url,
        elasticsearch_request_timeout_seconds=30,
        **credentials,
    )


@pytest.fixture(scope="package")
def cluster(peer: Peer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ElasticsearchDataSource]:
    """The Elasticsearch data source, in this process, pointing at the peer as admin."""
    source = open_data_source(cluster_settings(peer.url, tmp_path_factory.mktemp("cluster")))
    assert isinstance(source, ElasticsearchDataSource)
    yield source
    source.close()


@pytest.fixture(scope="package")
def front(peer: Peer, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second Vigil whose data source is the peer."""
    configured = server_settings(
        settings,
        tmp_path_factory.mktemp("front"),
        data_source="elasticsearch",
        elasticsearch_url=peer.url,
        elasticsearch_username=ADMIN_USER,
        elasticsearch_password=SecretStr(ADMIN_PASSWORD),
    )
    with running_server(configured) as url:
        yield url
