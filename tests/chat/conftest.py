"""A scripted OpenAI-compatible provider per test, and a `.gen-ai` connector pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.clients import unique_name
from vigil.testing.fake_openai import FakeOpenAI

CHAT = "/api/security_ai_assistant/chat/complete"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default_text="Default fake answer") as server:
        yield server


@pytest.fixture
def connector_id(admin: httpx.Client, fake: FakeOpenAI) -> str:
    """An OpenAI-compatible connector ("Other": Ollama, vLLM, llama.cpp server...) in the default space."""
    response = admin.post(
        "/api/actions/connector",
        json={
            "name": unique_name("fake-llm"),
            "connector_type_id": ".gen-ai",
            "config": {
                "apiProvider": "Other",
                "apiUrl": f"{fake.base_url}/chat/completions",
                "defaultModel": "fake-gpt",
            },
            "secrets": {"apiKey": "sk-test-secret-value"},
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])
