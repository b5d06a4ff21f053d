"""Which credentials the Elasticsearch data source presents, and the errors when the cluster refuses
them, cannot be reached or does not answer. Secrets never show in errors or logs."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.datasource.conftest import WEB, Peer, cluster_settings
from tests.support.clients import kibana_client, unique_name
from tests.support.server import free_port
from vigil.datasource import DataSourceSettingsError, open_data_source
from vigil.datasource.cluster_errors import ClusterError
from vigil.settings import Settings

QUERY = f"FROM {WEB} | STATS n = COUNT(*)"


@pytest.fixture(scope="module")
def peer_admin(peer: Peer) -> Iterator[httpx.Client]:
    with kibana_client(peer.url, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
        yield client


def peer_user(admin: httpx.Client, role: str) -> tuple[str, str]:
    name, password = unique_name(role), "pw-" + unique_name("secret")
    response = admin.put(f"/_security/user/{name}", json={"password": password, "roles": [role]})
    assert response.status_code == 200, response.text
    return name, password


def api_key_of(peer: Peer, username: str, password: str) -> str:
    with kibana_client(peer.url, auth=(username, password)) as client:
        response = client.post("/_security/api_key", json={"name": unique_name("vigil-front")})
    assert response.status_code == 200, response.text
    return str(response.json()["encoded"])


def count_with(tmp_path: Path, url: str, **credentials: object) -> int:
    source = open_data_source(cluster_settings(url, tmp_path, **credentials))
    try:
        return int(source.esql(QUERY).values[0][0])
    finally:
        source.close()


def refusal(tmp_path: Path, url: str, **credentials: object) -> ClusterError:
    with pytest.raises(ClusterError) as raised:
        count_with(tmp_path, url, **credentials)
    return raised.value


def test_basic_credentials_are_the_ones_the_cluster_sees(tmp_path: Path, peer: Peer, peer_admin: httpx.Client) -> None:
    viewer, viewer_password = peer_user(peer_admin, "viewer")
    assert count_with(tmp_path, peer.url, elasticsearch_username=viewer, elasticsearch_password=viewer_password) == 3
    # A user the cluster lets write but not read: the cluster's 403 and its message, naming that user.
    shipper, shipper_password = peer_user(peer_admin, "ingest")
    refused = refusal(tmp_path, peer.url, elasticsearch_username=shipper, elasticsearch_password=shipper_password)
    assert refused.status_code == 403 and refused.es_type == "security_exception"
    assert f"unauthorized for user [{shipper}]" in refused.message


def test_api_key_credentials(tmp_path: Path, peer: Peer, peer_admin: httpx.Client) -> None:
    viewer, viewer_password = peer_user(peer_admin, "viewer")
    assert count_with(tmp_path, peer.url, elasticsearch_api_key=api_key_of(peer, viewer, viewer_password)) == 3
    shipper, shipper_password = peer_user(peer_admin, "ingest")
    refused = refusal(tmp_path, peer.url, elasticsearch_api_key=api_key_of(peer, shipper, shipper_password))
    assert refused.status_code == 403 and f"[{shipper}]" in refused.message


def test_a_wrong_password_is_a_clear_error_without_the_secret(
    tmp_path: Path, peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-password-" + unique_name("x")
    with caplog.at_level(logging.DEBUG):
        refused = refusal(tmp_path, peer.url, elasticsearch_username=ADMIN_USER, elasticsearch_password=wrong)
    # Vigil's configuration is at fault, not the caller's request: a 502 that says what to check.
    assert refused.status_code == 502 and refused.es_type == "security_exception"
    assert refused.message == (
        f"the Elasticsearch data source at [{peer.url}] rejected Vigil's credentials: unable to authenticate user "
        f"[{ADMIN_USER}] for REST request (check VIGIL_ELASTICSEARCH_USERNAME and VIGIL_ELASTICSEARCH_PASSWORD, "
        "or VIGIL_ELASTICSEARCH_API_KEY)"
    )
    assert wrong not in caplog.text


def test_a_wrong_or_missing_api_key(tmp_path: Path, peer: Peer) -> None:
    refused = refusal(tmp_path, peer.url, elasticsearch_api_key="bm90OmEta2V5")
    assert refused.status_code == 502 and "unable to authenticate with provided API key" in refused.message
    anonymous = refusal(tmp_path, peer.url, elasticsearch_username=None)
    assert anonymous.status_code == 502 and "rejected Vigil's credentials" in anonymous.message


def test_an_unreachable_cluster(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    refused = refusal(tmp_path, url)
    assert refused.status_code == 503
    assert refused.message.startswith(f"cannot reach the Elasticsearch data source at [{url}]")


def test_a_cluster_that_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are accepted by the kernel, never answered
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = cluster_settings(url, tmp_path).model_copy(update={"elasticsearch_request_timeout_seconds": 0.5})
        source = open_data_source(settings)
        with pytest.raises(ClusterError) as raised:
            source.esql(QUERY)
        source.close()
    assert raised.value.status_code == 504
    assert raised.value.message == f"the Elasticsearch data source at [{url}] did not answer"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"elasticsearch_url": None}, "VIGIL_DATA_SOURCE=elasticsearch needs VIGIL_ELASTICSEARCH_URL"),
        ({"elasticsearch_url": "https://elastic:hunter2@es.example:9200"}, "must not hold credentials"),
        ({"elasticsearch_url": "es.example:9200"}, "must be an http(s) URL"),
        ({"elasticsearch_api_key": "hunter2"}, "not both"),
        ({"elasticsearch_password": None}, "go together"),
        ({"elasticsearch_ca_certs": Path("/nonexistent/ca.pem")}, "not a readable file"),
    ],
)
def test_settings_are_checked_without_repeating_secrets(tmp_path: Path, changes: dict, message: str) -> None:
    configured = {
        "elasticsearch_url": "https://es.example:9200",
        "elasticsearch_username": "vigil",
        "elasticsearch_password": "hunter2",
        **changes,
    }
    settings = Settings(data_dir=tmp_path, data_source="elasticsearch", **configured)
    with pytest.raises(DataSourceSettingsError) as raised:
        open_data_source(settings)
    assert message in str(raised.value)
    assert "hunter2" not in str(raised.value)
