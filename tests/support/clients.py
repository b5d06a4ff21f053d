"""HTTP clients that talk to Vigil the way Kibana's clients do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

KIBANA_HEADERS = {"elastic-api-version": "2023-10-31", "kbn-xsrf": "vigil-tests"}
CONVERSATIONS = "/api/security_ai_assistant/current_user/conversations"


def kibana_client(
    base_url: str, auth: httpx.Auth | tuple[str, str] | None = None, headers: dict[str, str] | None = None
) -> httpx.Client:
    return httpx.Client(base_url=base_url, auth=auth, headers={**KIBANA_HEADERS, **(headers or {})}, timeout=30)


@dataclass
class TestUser:
    username: str
    password: str
    roles: list[str]
    client: httpx.Client

    def create_conversation(self, title: str = "A conversation", space: str | None = None, **body: object) -> dict:
        prefix = f"/s/{space}" if space else ""
        response = self.client.post(f"{prefix}{CONVERSATIONS}", json={"title": title, **body})
        assert response.status_code == 200, response.text
        return response.json()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def fake_llm_connector(
    admin: httpx.Client,
    base_url: str,
    *,
    space: str | None = None,
    api_key: str | None = "sk-test-secret-value",
    default_model: str = "fake-gpt",
) -> str:
    """An OpenAI-compatible `.gen-ai` connector ("Other": Ollama, vLLM, llama.cpp server...)
    pointing at a fake provider's `base_url`; returns its id."""
    prefix = f"/s/{space}" if space else ""
    response = admin.post(
        f"{prefix}/api/actions/connector",
        json={
            "name": unique_name("fake-llm"),
            "connector_type_id": ".gen-ai",
            "config": {"apiProvider": "Other", "apiUrl": f"{base_url}/chat/completions", "defaultModel": default_model},
            "secrets": {"apiKey": api_key} if api_key else {},
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])
