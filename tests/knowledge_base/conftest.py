"""Knowledge base tests run in spaces of their own, so what other tests (and the API fuzzer) do to
the default space's knowledge base never changes their results."""

from __future__ import annotations

import pytest

from tests.support.clients import unique_name

KB = "/api/security_ai_assistant/knowledge_base"
ENTRIES = f"{KB}/entries"


@pytest.fixture
def space() -> str:
    return unique_name("kb").replace("_", "-")


def in_space(space: str, path: str) -> str:
    return f"/s/{space}{path}"


def document(name: str, text: str, **extra: object) -> dict[str, object]:
    return {"type": "document", "name": name, "kbResource": "user", "source": "test", "text": text, **extra}
