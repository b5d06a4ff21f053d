"""The zero-configuration path: the embedded model (SmolLM2-135M, offline) answers a question from
the built-in ATT&CK content and the answer cites the entry it was given. The model is too small to
call tools reliably, so the passages retrieved for the question are put in its context and listed
as the answer's sources (docs/knowledge-base.md). Its wording is not asserted on."""

from __future__ import annotations

from collections.abc import Callable

from tests.knowledge_base.conftest import in_space
from tests.support import clients
from tests.support.clients import CONVERSATIONS

CHAT = "/api/security_ai_assistant/chat/complete"


def test_embedded_model_answers_from_attack_with_a_citation(
    make_user: Callable[..., clients.TestUser], space: str
) -> None:
    user = make_user("editor")
    body = {
        "connectorId": "vigil-local",
        "persist": True,
        "messages": [{"role": "user", "content": "What is the MITRE ATT&CK technique T1059.001?"}],
    }
    response = user.client.post(in_space(space, CHAT), json=body, timeout=180)
    assert response.status_code == 200, response.text
    answer = response.json()
    references = answer["metadata"]["contentReferences"]
    cited = {ref["knowledgeBaseEntryId"]: ref for ref in references.values()}
    assert "attack-T1059.001" in cited
    assert cited["attack-T1059.001"]["knowledgeBaseEntryName"] == "T1059.001 PowerShell"
    assert all(ref["type"] == "KnowledgeBaseEntry" for ref in references.values())
    for reference_id in references:
        assert f"{{reference({reference_id})}}" in answer["data"]
    stored = user.client.get(in_space(space, f"{CONVERSATIONS}/{answer['conversationId']}")).json()
    assert stored["messages"][-1]["metadata"]["contentReferences"] == references
    assert stored["messages"][-1]["content"] == answer["data"]
