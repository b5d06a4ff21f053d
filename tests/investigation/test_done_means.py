"""The issue's acceptance, end to end: a real server filled by `vigil demo load`, chat/complete,
a scripted provider that behaves as a model would (it calls the tools and cites what they
returned), and the answer, citations and chart checked against the demo data itself."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.chat.test_chat_complete import conversation
from tests.investigation.conftest import LoadedDemo
from vigil.demo import world
from vigil.testing.fake_openai import FakeOpenAI, RecordedRequest, Step, computed, reply, tool_call

CHAT = "/api/security_ai_assistant/chat/complete"
CHECKOUT_ERRORS_PER_HOUR = (
    "FROM logs-services-default"
    ' | WHERE service.name == "checkout" AND log.level == "error" AND @timestamp >= NOW() - 24 hours'
    " | STATS errors = COUNT(*) BY hour = BUCKET(@timestamp, 1 hour) | SORT hour"
)
SENSITIVE = ("wks-fin-01", "srv-file-01", "bastion-01", "alice.nguyen", "svc_backup", world.BRUTE_FORCE_IP)


def tool_result(request: RecordedRequest, name_hint: str) -> str:
    messages = request.body["messages"]
    return next(m["content"] for m in reversed(messages) if m["role"] == "tool" and name_hint in m["content"])


def table_rows(tool_text: str) -> list[dict[str, str]]:
    """The alert rows of the alerts tool's answer (the CSV whose header starts with `ref`)."""
    body = tool_text.split("Alerts:\n", 1)[1].split("</untrusted-data>", 1)[0]
    start = body.index("ref,")
    return list(csv.DictReader(io.StringIO(body[start:])))


def ask(client: httpx.Client, connector_id: str, text: str) -> dict[str, Any]:
    response = client.post(
        CHAT, json={"connectorId": connector_id, "persist": True, "messages": [{"role": "user", "content": text}]}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_most_critical_open_alerts_are_fetched_and_cited(
    demo: LoadedDemo, make_user, fake: FakeOpenAI, connector_id: str
) -> None:
    user = make_user("editor")
    cited: list[str] = []

    def answer(request: RecordedRequest) -> Step:
        rows = table_rows(tool_result(request, "open_and_acknowledged_alerts"))
        critical = [row for row in rows if row["kibana.alert.severity"] == "critical"]
        cited.extend(row["ref"] for row in critical)
        marks = " ".join(f"{{reference({row['ref']})}}" for row in critical)
        return reply(f"The most critical open alerts are ransomware-related {marks}. First isolate the hosts.")

    fake.script(tool_call("open_and_acknowledged_alerts", {}), computed(answer), reply("Critical alerts"))
    body = ask(user.client, connector_id, "what are my most critical open alerts and what should I do first?")

    # The model was offered the tool, called it, and the answer cites what it returned.
    offered = {tool["function"]["name"] for tool in fake.chat_requests[0].body["tools"]}
    assert {"open_and_acknowledged_alerts", "alert_counts", "natural_language_esql", "create_chart"} <= offered
    assert cited and all(f"{{reference({ref})}}" in body["data"] for ref in cited)

    # Every critical alert of the last 24 hours that is open, none other, and with its real id.
    cutoff = demo.end - timedelta(hours=24)
    expected = {
        d.id
        for d in demo.of(world.SECURITY_ALERTS_INDEX)
        if d.source["kibana.alert.severity"] == "critical"
        and d.source["kibana.alert.workflow_status"] in ("open", "acknowledged")
        and datetime.fromisoformat(d.timestamp.replace("Z", "+00:00")) >= cutoff
    }
    stored = conversation(user.client, body["conversationId"])["messages"][-1]
    references = stored["metadata"]["contentReferences"]
    assert {ref["alertId"] for ref in references.values()} == expected
    assert all(ref["type"] == "SecurityAlert" for ref in references.values())

    # What reached the provider: the alerts as framed, anonymized data.
    seen = fake.chat_requests[1].body["messages"]
    result = tool_result(fake.chat_requests[1], "open_and_acknowledged_alerts")
    assert '<untrusted-data source="open_and_acknowledged_alerts">' in result
    assert "Ransomware Behavior - Mass File Encryption" in result
    sent = json.dumps(seen)
    assert not [value for value in SENSITIVE if value in sent]
    assert set(body["replacements"].values()) >= {"srv-file-01", "wks-fin-01"}


def test_chart_of_checkout_errors_is_built_from_a_query_it_ran(
    demo: LoadedDemo, make_user, fake: FakeOpenAI, connector_id: str
) -> None:
    user = make_user("editor")

    def answer(request: RecordedRequest) -> Step:
        text = tool_result(request, "create_chart")
        references = re.findall(r"\{reference\(([0-9a-f]+)\)\}", text)
        image = re.search(r"!\[[^\]]*\]\([^)]+\)", text)
        assert image is not None
        return reply(f"Checkout errors peaked in the afternoon. {image.group(0)} {{reference({references[0]})}}")

    fake.script(
        tool_call(
            "create_chart",
            {"title": "Checkout errors per hour", "question": "error count of the checkout service per hour, last 24h"},
        ),
        reply(f"```esql\n{CHECKOUT_ERRORS_PER_HOUR}\n```"),  # the side request that writes the query
        computed(answer),
        reply("Checkout errors"),
    )
    body = ask(user.client, connector_id, "chart the error count for the checkout service over the last 24 hours")

    # The query was written with the relevant metadata in front of the model.
    side = fake.chat_requests[1].body["messages"]
    prompt = "\n".join(m["content"] for m in side if isinstance(m.get("content"), str))
    assert "logs-services-default" in prompt and "service.name" in prompt and "checkout" in prompt
    assert "tools" not in fake.chat_requests[1].body  # a plain completion, not another agent step

    stored = conversation(user.client, body["conversationId"])["messages"][-1]
    references = stored["metadata"]["contentReferences"]
    (href,) = [ref for ref in references.values() if ref["type"] == "Href"]
    chart_id = href["href"].rsplit("/", 1)[1].removesuffix(".png")

    chart = user.client.get(f"/api/vigil/charts/{chart_id}")
    assert chart.status_code == 200, chart.text
    document = chart.json()
    assert document["query"] == CHECKOUT_ERRORS_PER_HOUR
    assert document["conversationId"] == body["conversationId"]
    points = document["spec"]["data"]["values"]
    assert document["spec"]["encoding"]["x"]["field"] == "hour"

    # The chart holds exactly the checkout errors of the demo's last 24 hours.
    created = datetime.fromisoformat(document["createdAt"].replace("Z", "+00:00"))
    errors = [
        datetime.fromisoformat(d.timestamp.replace("Z", "+00:00"))
        for d in demo.of(world.SERVICE_LOGS_INDEX)
        if d.source["service"]["name"] == "checkout" and d.source["log"]["level"] == "error"
    ]
    window = created - timedelta(hours=24)
    surely_in = sum(1 for t in errors if t >= window + timedelta(seconds=30))
    maybe_in = sum(1 for t in errors if t >= window - timedelta(seconds=30))
    assert surely_in <= sum(point["errors"] for point in points) <= maybe_in
    assert max(point["errors"] for point in points) >= 5  # the incident 9 to 6 hours ago shows

    png = user.client.get(f"/api/vigil/charts/{chart_id}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    spec = user.client.get(f"/api/vigil/charts/{chart_id}", params={"format": "vega-lite"})
    assert spec.json() == document["spec"]
