"""Links to Vigil objects, for messages the assistant writes and posts elsewhere."""

from __future__ import annotations

from vigil.settings import Settings


def space_prefix(space_id: str) -> str:
    return "" if space_id == "default" else f"/s/{space_id}"


def conversation_url(settings: Settings, space_id: str, conversation_id: str) -> str:
    base = settings.resolved_public_base_url + space_prefix(space_id)
    return f"{base}/app/vigil/conversations/{conversation_id}"
