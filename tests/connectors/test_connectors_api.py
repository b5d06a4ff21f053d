"""The connectors (actions) API as Kibana's clients use it: CRUD, validation, privileges, spaces,
preconfigured connectors, and secrets that never come back out."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.clients import unique_name

CONNECTOR = "/api/actions/connector"
CONNECTORS = "/api/actions/connectors"
TYPES = "/api/actions/connector_types"
KEYS = {
    "id",
    "name",
    "connector_type_id",
    "config",
    "is_preconfigured",
    "is_deprecated",
    "is_missing_secrets",
    "is_system",
}


def openai(api_key: str = "sk-test-key", **config: object) -> dict:
    return {
        "name": unique_name("gpt"),
        "connector_type_id": ".gen-ai",
        "config": {
            "apiProvider": "OpenAI",
            "apiUrl": "https://api.openai.com/v1/chat/completions",
            "defaultModel": "gpt-4o",
            **config,
        },
        "secrets": {"apiKey": api_key},
    }


def create(client: httpx.Client, body: dict, space: str | None = None, connector_id: str | None = None) -> dict:
    prefix = f"/s/{space}" if space else ""
    path = f"{prefix}{CONNECTOR}" + (f"/{connector_id}" if connector_id else "")
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_get_list_update_delete(admin: httpx.Client) -> None:
    body = openai(organizationId="org-1", headers={"X-Team": "soc"})
    created = create(admin, body)
    assert set(created) == KEYS
    assert created["name"] == body["name"]
    assert created["connector_type_id"] == ".gen-ai"
    assert created["config"] == body["config"]
    assert created["is_preconfigured"] is False
    assert created["is_deprecated"] is False
    assert created["is_missing_secrets"] is False
    assert created["is_system"] is False
    uuid.UUID(created["id"])

    assert admin.get(f"{CONNECTOR}/{created['id']}").json() == created
    listed = {c["id"]: c for c in admin.get(CONNECTORS).json()}
    assert listed[created["id"]] == {**created, "referenced_by_count": 0}

    new_config = {"apiProvider": "Azure OpenAI", "apiUrl": "https://x.openai.azure.com/openai/deployments/d"}
    updated = admin.put(
        f"{CONNECTOR}/{created['id']}", json={"name": "renamed", "config": new_config, "secrets": {"apiKey": "k2"}}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**created, "name": "renamed", "config": new_config}

    deleted = admin.delete(f"{CONNECTOR}/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    missing = admin.get(f"{CONNECTOR}/{created['id']}")
    assert missing.status_code == 404
    assert missing.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": f"Saved object [action/{created['id']}] not found",
    }
    assert admin.delete(f"{CONNECTOR}/{created['id']}").status_code == 404
    assert admin.put(f"{CONNECTOR}/{created['id']}", json={"name": "x"}).status_code == 404


def test_create_with_an_id_and_conflicts(admin: httpx.Client) -> None:
    connector_id = unique_name("my-connector")
    created = create(admin, openai(), connector_id=connector_id)
    assert created["id"] == connector_id
    again = admin.post(f"{CONNECTOR}/{connector_id}", json=openai())
    assert again.status_code == 409
    assert again.json()["message"] == f"Saved object [action/{connector_id}] conflict"
    taken = admin.post(f"{CONNECTOR}/vigil-local", json=openai())
    assert taken.status_code == 400
    assert taken.json()["message"] == "This vigil-local already exists in a preconfigured action."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"connector_type_id": ".gen-ai"}, "[request body]: name: Required"),
        ({"name": "  ", "connector_type_id": ".gen-ai"}, "[request body]: name: String should match pattern"),
        ({"name": "n"}, "[request body]: connector_type_id: Required"),
        ({"name": "n", "connector_type_id": ".nope"}, 'Action type ".nope" is not registered.'),
        (
            {"name": "n", "connector_type_id": ".gen-ai", "config": {"apiProvider": "OpenAI"}},
            "[request body]: config.apiUrl: Required",
        ),
        (
            {"name": "n", "connector_type_id": ".gen-ai", "config": {"apiUrl": "https://a.example"}},
            "[request body]: config.apiProvider: Required",
        ),
        (
            {
                "name": "n",
                "connector_type_id": ".gen-ai",
                "config": {"apiProvider": "Mistral", "apiUrl": "https://a.example"},
            },
            "[request body]: config.apiProvider: Input should be 'OpenAI', 'Azure OpenAI' or 'Other'",
        ),
        (
            {"name": "n", "connector_type_id": ".gen-ai", "config": {"apiProvider": "OpenAI", "apiUrl": "ftp://x"}},
            "[request body]: config.apiUrl: String should match pattern",
        ),
        (
            {"name": "n", "connector_type_id": ".gen-ai", "config": {"apiProvider": "OpenAI", "apiUrl": "https://a.b"}},
            "[request body]: secrets.apiKey: Required",
        ),
        (
            {
                "name": "n",
                "connector_type_id": ".gen-ai",
                "config": {"apiProvider": "OpenAI", "apiUrl": "https://a.b", "apiurl": "typo"},
                "secrets": {"apiKey": "k"},
            },
            "[request body]: config.apiurl: Extra inputs are not permitted",
        ),
        (
            {
                "name": "n",
                "connector_type_id": ".gen-ai",
                "config": {"apiProvider": "OpenAI", "apiUrl": "https://a.b", "contextWindowLength": -1},
                "secrets": {"apiKey": "k"},
            },
            "[request body]: config.contextWindowLength: Input should be greater than 0",
        ),
        (
            {"name": "n", "connector_type_id": ".bedrock", "config": {"apiUrl": "https://bedrock.example"}},
            "[request body]: secrets.accessKey: Required, [request body]: secrets.secret: Required",
        ),
        (
            {
                "name": "n",
                "connector_type_id": ".gemini",
                "config": {"apiUrl": "https://g.example", "gcpProjectID": "p"},
                "secrets": {"credentialsJson": "{}"},
            },
            "[request body]: config.gcpRegion: Required",
        ),
        ({"name": "n", "connector_type_id": ".anthropic"}, "[request body]: secrets.apiKey: Required"),
        (
            {"name": "n", "connector_type_id": ".vigil-local", "secrets": {"apiKey": "k"}},
            "[request body]: secrets.apiKey: Extra inputs are not permitted",
        ),
        (
            {"name": "n", "connector_type_id": ".vigil-local", "config": {"maxTokens": 0}},
            "[request body]: config.maxTokens: Input should be greater than 0",
        ),
        (
            {"name": "n", "connector_type_id": ".vigil-local", "config": "x"},
            "[request body]: config: Input should be a valid dictionary",
        ),
    ],
)
def test_validation_errors_name_the_field(admin: httpx.Client, body: dict, message: str) -> None:
    response = admin.post(CONNECTOR, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Bad Request"
    assert response.json()["message"].startswith(message), response.json()["message"]


def test_update_validates_against_the_stored_type(admin: httpx.Client) -> None:
    created = create(admin, openai())
    response = admin.put(f"{CONNECTOR}/{created['id']}", json={"name": "n", "config": created["config"]})
    assert response.status_code == 400
    assert response.json()["message"] == "[request body]: secrets.apiKey: Required"
    response = admin.put(f"{CONNECTOR}/{created['id']}", json={"config": created["config"]})
    assert response.json()["message"] == "[request body]: name: Required"


def test_every_type_accepts_its_documented_shape(admin: httpx.Client) -> None:
    bodies = [
        {
            "connector_type_id": ".gen-ai",
            "config": {"apiProvider": "Other", "apiUrl": "http://localhost:11434/v1/chat/completions"},
        },
        {
            "connector_type_id": ".bedrock",
            "config": {"apiUrl": "https://bedrock-runtime.us-east-1.amazonaws.com"},
            "secrets": {"accessKey": "AKIA", "secret": "s"},
        },
        {
            "connector_type_id": ".gemini",
            "config": {
                "apiUrl": "https://us-central1-aiplatform.googleapis.com",
                "gcpRegion": "us-central1",
                "gcpProjectID": "my-project",
            },
            "secrets": {"credentialsJson": '{"type": "service_account"}'},
        },
        {"connector_type_id": ".anthropic", "secrets": {"apiKey": "sk-ant"}},
        {"connector_type_id": ".vigil-local", "config": {"maxTokens": 256, "temperature": 0.2}},
    ]
    configs = {}
    for body in bodies:
        created = create(admin, {"name": unique_name("c"), **body})
        configs[created["connector_type_id"]] = created["config"]
    assert configs[".gen-ai"] == {"apiProvider": "Other", "apiUrl": "http://localhost:11434/v1/chat/completions"}
    assert configs[".bedrock"]["defaultModel"]
    assert configs[".gemini"]["defaultModel"]
    assert configs[".anthropic"] == {"apiUrl": "https://api.anthropic.com"}
    assert configs[".vigil-local"] == {"maxTokens": 256, "temperature": 0.2}


def test_connector_types(admin: httpx.Client) -> None:
    types = admin.get(TYPES)
    assert types.status_code == 200
    by_id = {t["id"]: t for t in types.json()}
    assert set(by_id) == {".gen-ai", ".bedrock", ".gemini", ".anthropic", ".vigil-local"}
    assert by_id[".gen-ai"] == {
        "id": ".gen-ai",
        "name": "OpenAI",
        "enabled": True,
        "enabled_in_config": True,
        "enabled_in_license": True,
        "minimum_license_required": "enterprise",
        "supported_feature_ids": [
            "generativeAIForSecurity",
            "generativeAIForObservability",
            "generativeAIForSearchPlayground",
        ],
        "is_system": False,
    }
    filtered = admin.get(TYPES, params={"feature_id": "generativeAIForSecurity"}).json()
    assert {t["id"] for t in filtered} == set(by_id)
    assert admin.get(TYPES, params={"feature_id": "alerting"}).json() == []


def test_vigil_local_is_always_there_and_read_only(admin: httpx.Client) -> None:
    space = unique_name("space").replace("_", "-")
    for prefix in ("", f"/s/{space}"):
        listed = {c["id"]: c for c in admin.get(f"{prefix}{CONNECTORS}").json()}
        assert listed["vigil-local"] == {
            "id": "vigil-local",
            "name": "Vigil local model (SmolLM2-135M-Instruct)",
            "connector_type_id": ".vigil-local",
            "is_preconfigured": True,
            "is_deprecated": False,
            "is_missing_secrets": False,
            "is_system": False,
            "referenced_by_count": 0,
        }
        got = admin.get(f"{prefix}{CONNECTOR}/vigil-local")
        assert got.status_code == 200
        assert got.json()["is_preconfigured"] is True
    update = admin.put(f"{CONNECTOR}/vigil-local", json={"name": "mine", "config": {}})
    assert update.status_code == 400
    assert update.json()["message"] == "Preconfigured action vigil-local is not allowed to update."
    delete = admin.delete(f"{CONNECTOR}/vigil-local")
    assert delete.status_code == 400
    assert delete.json()["message"] == "Preconfigured action vigil-local is not allowed to delete."


def test_spaces_are_isolated(admin: httpx.Client) -> None:
    space = unique_name("space").replace("_", "-")
    in_space = create(admin, openai(), space=space)
    in_default = create(admin, openai())
    assert admin.get(f"{CONNECTOR}/{in_space['id']}").status_code == 404
    assert admin.get(f"/s/{space}{CONNECTOR}/{in_space['id']}").status_code == 200
    assert admin.get(f"/s/{space}{CONNECTOR}/{in_default['id']}").status_code == 404
    space_ids = {c["id"] for c in admin.get(f"/s/{space}{CONNECTORS}").json()}
    assert in_space["id"] in space_ids
    assert in_default["id"] not in space_ids
    assert admin.delete(f"{CONNECTOR}/{in_space['id']}").status_code == 404
    assert admin.put(f"{CONNECTOR}/{in_space['id']}", json=openai()).status_code == 404
    # The same client id may exist in two spaces.
    shared_id = unique_name("same")
    create(admin, openai(), connector_id=shared_id)
    create(admin, openai(), space=space, connector_id=shared_id)


def _status_of_everything(client: httpx.Client, connector_id: str) -> dict[str, int]:
    return {
        "list": client.get(CONNECTORS).status_code,
        "get": client.get(f"{CONNECTOR}/{connector_id}").status_code,
        "types": client.get(TYPES).status_code,
        "execute": client.post(
            f"{CONNECTOR}/{connector_id}/_execute", json={"params": {"subAction": "invokeAI"}}
        ).status_code,
        "create": client.post(CONNECTOR, json=openai()).status_code,
        "update": client.put(f"{CONNECTOR}/{connector_id}", json=openai()).status_code,
        "delete": client.delete(f"{CONNECTOR}/{connector_id}").status_code,
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "viewer",
            {"list": 200, "get": 200, "types": 200, "execute": 200, "create": 403, "update": 403, "delete": 403},
        ),
        (
            "editor",
            {"list": 200, "get": 200, "types": 200, "execute": 200, "create": 403, "update": 403, "delete": 403},
        ),
        (
            "ingest",
            {"list": 403, "get": 403, "types": 403, "execute": 403, "create": 403, "update": 403, "delete": 403},
        ),
        (
            "superuser",
            {"list": 200, "get": 200, "types": 200, "execute": 200, "create": 200, "update": 200, "delete": 204},
        ),
    ],
)
def test_privileges(admin: httpx.Client, make_user, role: str, expected: dict[str, int]) -> None:
    connector = create(admin, openai())
    if role == "superuser":
        # The session's `elastic`: another superuser would change tests/api/test_auth.py's
        # "last superuser" premise.
        assert _status_of_everything(admin, connector["id"]) == expected
        return
    user = make_user(role)
    assert _status_of_everything(user.client, connector["id"]) == expected
    if role == "viewer":
        denied = user.client.post(CONNECTOR, json=openai())
        assert denied.json() == {
            "statusCode": 403,
            "error": "Forbidden",
            "message": f"API [POST {CONNECTOR}] is unauthorized for user [{user.username}], this action is "
            "granted by the Kibana privileges [actions:all]",
        }


def test_writes_need_the_xsrf_header(admin: httpx.Client, base_url: str) -> None:
    with httpx.Client(base_url=base_url, auth=admin.auth) as bare:
        response = bare.post(CONNECTOR, json=openai())
    assert response.status_code == 400
    assert response.json()["message"] == "Request must contain a kbn-xsrf header."


def test_execute_calls_the_executor_hook(admin: httpx.Client) -> None:
    connector = create(admin, openai())
    response = admin.post(
        f"{CONNECTOR}/{connector['id']}/_execute",
        json={"params": {"subAction": "summonDemons", "subActionParams": {}}},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "connector_id": connector["id"],
        "status": "error",
        "message": "an error occurred while running the action",
        "service_message": f'Sub action "summonDemons" is not registered. Connector id: {connector["id"]}. '
        f"Connector name: {connector['name']}. Connector type: .gen-ai",
    }
    no_sub_action = admin.post(f"{CONNECTOR}/vigil-local/_execute", json={"params": {}})
    assert no_sub_action.status_code == 200
    assert no_sub_action.json()["status"] == "error"
    assert no_sub_action.json()["connector_id"] == "vigil-local"
    missing = admin.post(f"{CONNECTOR}/{connector['id']}/_execute", json={})
    assert missing.status_code == 400
    assert missing.json()["message"] == "[request body]: params: Required"
    unknown = admin.post(f"{CONNECTOR}/nope-{uuid.uuid4()}/_execute", json={"params": {}})
    assert unknown.status_code == 404


def test_audit_events(admin: httpx.Client, settings) -> None:
    connector = create(admin, openai())
    admin.put(f"{CONNECTOR}/{connector['id']}", json=openai())
    admin.delete(f"{CONNECTOR}/{connector['id']}")
    import json

    events = [
        json.loads(line) for line in settings.resolved_audit_log.read_text().splitlines() if connector["id"] in line
    ]
    assert [(e["event"]["action"], e["event"]["type"], e["message"]) for e in events] == [
        ("connector_create", ["creation"], f"User has created connector [id={connector['id']}]"),
        ("connector_update", ["change"], f"User has updated connector [id={connector['id']}]"),
        ("connector_delete", ["deletion"], f"User has deleted connector [id={connector['id']}]"),
    ]
    assert all(e["user"]["name"] == "elastic" and e["kibana"]["space_id"] == "default" for e in events)
