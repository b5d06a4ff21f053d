"""The zero-configuration path, for real: chat/complete on the built-in `vigil-local` connector runs
SmolLM2-135M in-process (no network, no configuration) and stores its answer."""

from __future__ import annotations

import json

from tests.chat.conftest import CHAT
from tests.support.clients import CONVERSATIONS


def test_embedded_model_answers_through_the_api(make_user) -> None:
    user = make_user("editor")
    connectors = user.client.get("/api/actions/connectors").json()
    assert any(c["id"] == "vigil-local" and c["is_preconfigured"] for c in connectors)
    body = {
        "connectorId": "vigil-local",
        "persist": True,
        "isStream": True,
        "messages": [{"role": "user", "content": "Say hello to the security team."}],
    }
    response = user.client.post(CHAT, json=body, timeout=120)
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert lines and lines[-1]["type"] == "content", lines[-1:]
    answer = "".join(line["payload"] for line in lines)
    assert answer.strip()
    stored = user.client.get(f"{CONVERSATIONS}/_find").json()["data"][0]
    assert stored["messages"][-1]["role"] == "assistant"
    assert stored["messages"][-1]["content"] == answer
    assert not stored["messages"][-1].get("isError")
    assert stored["apiConfig"]["actionTypeId"] == ".vigil-local"
