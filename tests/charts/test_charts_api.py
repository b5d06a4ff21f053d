"""`GET /api/vigil/charts/{id}`: charts made in chat turns, readable by whoever may read the
conversation they belong to, and by nobody else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from tests.chat.test_chat_complete import wait_for
from tests.support.clients import CONVERSATIONS
from vigil.demo.documents import iso
from vigil.testing.fake_openai import FakeOpenAI, RecordedRequest, Step, computed, reply, tool_call

CHAT = "/api/security_ai_assistant/chat/complete"
CHARTS = "/api/vigil/charts"


@pytest.fixture(scope="module")
def logins(admin: httpx.Client) -> str:
    """An index of logins, two an hour over the last six hours."""
    index = f"logs-charts{uuid.uuid4().hex[:6]}-default"
    now = datetime.now(UTC)
    lines = []
    for hour in range(6):
        for _ in range(2):
            source = {"@timestamp": iso(now - timedelta(hours=hour, minutes=5)), "event": {"action": "login"}}
            lines += [orjson.dumps({"create": {"_index": index}}), orjson.dumps(source)]
    response = admin.post(
        "/_bulk",
        content=b"\n".join(lines) + b"\n",
        params={"refresh": "true"},
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200 and not response.json()["errors"], response.text
    return index


def chart_in_chat(client: httpx.Client, fake: FakeOpenAI, connector_id: str, index: str, *, persist: bool) -> tuple:
    """A chat turn whose model calls create_chart with a query; returns (chart id, conversation id)."""
    query = f"FROM {index} | STATS logins = COUNT(*) BY hour = BUCKET(@timestamp, 1 hour) | SORT hour"
    found: list[str] = []

    def answer(request: RecordedRequest) -> Step:
        text = next(m["content"] for m in request.body["messages"] if m["role"] == "tool")
        found.append(text.split("/api/vigil/charts/", 1)[1].split(".png", 1)[0])
        return reply("Here is the chart.")

    fake.script(tool_call("create_chart", {"title": "Logins", "question": "logins per hour", "query": query}))
    fake.script(computed(answer), reply("Logins chart"))
    response = client.post(
        CHAT,
        json={"connectorId": connector_id, "persist": persist, "messages": [{"role": "user", "content": "chart"}]},
    )
    assert response.status_code == 200, response.text
    return found[0], response.json().get("conversationId")


def test_the_owner_reads_the_chart_in_every_format(make_user, fake: FakeOpenAI, connector_id: str, logins) -> None:
    owner = make_user("editor")
    chart_id, conversation_id = chart_in_chat(owner.client, fake, connector_id, logins, persist=True)
    document = owner.client.get(f"{CHARTS}/{chart_id}").json()
    assert document["title"] == "Logins" and document["conversationId"] == conversation_id
    assert document["createdBy"]["name"] == owner.username and document["png"] == f"{CHARTS}/{chart_id}.png"
    assert sum(point["logins"] for point in document["spec"]["data"]["values"]) == 12
    assert owner.client.get(f"{CHARTS}/{chart_id}", params={"format": "vega-lite"}).json() == document["spec"]
    for url, params in ((f"{CHARTS}/{chart_id}.png", None), (f"{CHARTS}/{chart_id}", {"format": "png"})):
        image = owner.client.get(url, params=params)
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    bad = owner.client.get(f"{CHARTS}/{chart_id}", params={"format": "svg"})
    assert bad.status_code == 400 and bad.json()["statusCode"] == 400
    missing = owner.client.get(f"{CHARTS}/no-such-chart")
    assert missing.status_code == 404 and "not found" in missing.json()["message"]


def test_who_may_read_the_conversation_may_read_its_charts(
    make_user, fake: FakeOpenAI, connector_id: str, logins
) -> None:
    owner, colleague = make_user("editor"), make_user("viewer")
    chart_id, conversation_id = chart_in_chat(owner.client, fake, connector_id, logins, persist=True)
    # A private conversation: its charts do not exist for anyone else, nor in another space.
    assert colleague.client.get(f"{CHARTS}/{chart_id}").status_code == 404
    assert colleague.client.get(f"{CHARTS}/{chart_id}.png").status_code == 404
    assert owner.client.get(f"/s/elsewhere{CHARTS}/{chart_id}").status_code == 404
    # Shared with the space: readable by the colleague too.
    shared = owner.client.put(f"{CONVERSATIONS}/{conversation_id}", json={"id": conversation_id, "users": []})
    assert shared.status_code == 200, shared.text
    assert colleague.client.get(f"{CHARTS}/{chart_id}").status_code == 200
    # Deleting the conversation deletes its charts.
    assert owner.client.delete(f"{CONVERSATIONS}/{conversation_id}").status_code == 200
    wait_for(lambda: owner.client.get(f"{CHARTS}/{chart_id}").status_code == 404)


def test_a_chart_of_an_unsaved_turn_is_its_creators_alone(
    make_user, fake: FakeOpenAI, connector_id: str, logins
) -> None:
    owner, colleague = make_user("editor"), make_user("editor")
    chart_id, conversation_id = chart_in_chat(owner.client, fake, connector_id, logins, persist=False)
    assert conversation_id is None
    assert owner.client.get(f"{CHARTS}/{chart_id}").json()["conversationId"] is None
    assert colleague.client.get(f"{CHARTS}/{chart_id}").status_code == 404


def test_charts_need_the_assistant_and_data_rights(make_user, base_url: str) -> None:
    shipper = make_user("ingest")
    assert shipper.client.get(f"{CHARTS}/anything").status_code == 403
    anonymous = httpx.get(f"{base_url}{CHARTS}/anything")
    assert anonymous.status_code == 401
