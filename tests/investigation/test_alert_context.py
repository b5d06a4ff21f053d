"""An alert attached to chat/complete, as the Swimlane connector sends it: anonymized in the
model's context, citable, and triaged with MITRE ATT&CK from the knowledge base."""

from __future__ import annotations

import json
import re

import httpx

from tests.chat.test_chat_complete import conversation
from vigil.testing.fake_openai import FakeOpenAI, RecordedRequest, Step, computed, reply, tool_call

CHAT = "/api/security_ai_assistant/chat/complete"
PROMPTS = "/api/security_ai_assistant/prompts/_find"

# The fields of the seed's Swimlane "complete chat" action, flat and dotted as it sends them.
SWIMLANE_ALERT = {
    "kibana.alert.uuid": "5f3c2a1b-alert-7781",
    "kibana.alert.rule.name": "Suspicious PowerShell Encoded Command",
    "kibana.alert.severity": "high",
    "kibana.alert.rule.threat.technique.id": "T1059",
    "kibana.alert.rule.threat.technique.subtechnique.id": "T1059.001",
    "event.category": "process",
    "event.module": "endpoint",
    "process.pid": 4242,
    "process.name": "powershell.exe",
    "process.executable": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "process.args": "-nop -w hidden -enc SQBFAFgA",
    "process.working_directory": "C:\\Users\\dana.white\\Downloads",
    "host.name": "wks-hr-14",
    "host.os.name": "Windows",
    "host.os.version": "10",
    "user.name": "dana.white",
    "message": "Process powershell.exe started by dana.white on wks-hr-14",
}


def quick_prompt(client: httpx.Client, name: str) -> str:
    prompts = client.get(PROMPTS, params={"per_page": 100, "filter": "promptType:quick"}).json()["data"]
    return next(p["content"] for p in prompts if p["name"] == name)


def test_triage_of_an_attached_alert_cites_it_and_attack_from_the_knowledge_base(
    make_user, fake: FakeOpenAI, connector_id: str
) -> None:
    user = make_user("editor")
    question = quick_prompt(user.client, "Triage steps")
    assert "MITRE ATT&CK" in question and "knowledge base" in question

    def answer(request: RecordedRequest) -> Step:
        first_prompt = request.body["messages"][1]["content"]
        alert_ref = re.search(r"Cite the attached alert as (\{reference\(\w+\)\})", first_prompt)
        kb_result = json.loads(next(m["content"] for m in request.body["messages"] if m["role"] == "tool"))
        technique = next(r for r in kb_result["results"] if "T1059" in r["name"])
        assert alert_ref is not None
        return reply(
            f"1. Confirm: encoded PowerShell {alert_ref.group(1)} is T1059.001 {technique['citation']}. "
            "2. Scope: look for the same command line on other hosts. 3. Contain: isolate the host."
        )

    fake.script(
        tool_call("knowledge_base_retrieval", {"query": "T1059.001 PowerShell command and scripting interpreter"}),
        computed(answer),
        reply("Triage of encoded PowerShell"),
    )
    response = user.client.post(
        CHAT,
        json={
            "connectorId": connector_id,
            "persist": True,
            "messages": [
                {"role": "user", "content": question, "data": SWIMLANE_ALERT, "fields_to_anonymize": ["user.name"]}
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()

    # The model saw the alert as a CONTEXT block, anonymized: no host or user name in clear.
    context = fake.chat_requests[0].body["messages"][1]["content"]
    assert context.startswith('CONTEXT:\n"""\n') and "process.name,powershell.exe" in context
    assert "kibana.alert.rule.name,Suspicious PowerShell Encoded Command" in context
    sent = json.dumps([r.body for r in fake.chat_requests])
    assert "dana.white" not in sent and "wks-hr-14" not in sent
    assert {"dana.white", "wks-hr-14"} <= set(body["replacements"].values())

    references = conversation(user.client, body["conversationId"])["messages"][-1]["metadata"]["contentReferences"]
    kinds = {ref["type"]: ref for ref in references.values()}
    assert kinds["SecurityAlert"]["alertId"] == "5f3c2a1b-alert-7781"
    assert "T1059" in kinds["KnowledgeBaseEntry"]["knowledgeBaseEntryName"]
