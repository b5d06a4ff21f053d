"""A title for a conversation still called "New chat", written by the same model after the
first answer, in the background so the answer is not delayed (as Kibana does)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from anyio import to_thread
from pydantic_ai import Agent
from pydantic_ai.usage import UsageLimits

from vigil.auth.principal import Principal
from vigil.conversations import service as conversations
from vigil.conversations.service import DEFAULT_TITLE

if TYPE_CHECKING:
    from vigil.chat.engine import ChatEngine, PreparedTurn

logger = logging.getLogger("vigil.chat")

TITLE_INSTRUCTIONS = (
    "You write titles for security and operations chat conversations. Answer with the title "
    "only: at most eight words, no quotes, no trailing punctuation."
)
MAX_TITLE_LENGTH = 100


def clean_title(text: str) -> str | None:
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE).strip(" \"'`*#.")
    return line[:MAX_TITLE_LENGTH] or None


async def generate_title(engine: ChatEngine, principal: Principal, space_id: str, prepared: PreparedTurn) -> None:
    conversation_id = prepared.conversation_id
    if conversation_id is None:
        return
    try:
        agent = Agent(prepared.resolved.model, instructions=TITLE_INSTRUCTIONS)
        result = await agent.run(
            f"Conversation start:\n{prepared.user_prompt[:2000]}", usage_limits=UsageLimits(request_limit=1)
        )
        title = clean_title(str(result.output))
    except Exception as exc:  # a missing title is never worth failing anything for
        logger.info("title generation failed: %s", type(exc).__name__)
        return
    if title:
        await to_thread.run_sync(_store_title, engine, principal, space_id, conversation_id, title)


def _store_title(engine: ChatEngine, principal: Principal, space_id: str, conversation_id: str, title: str) -> None:
    with engine.database.session() as session:
        conversation = conversations.get_owned(session, principal, space_id, conversation_id, lock=True)
        if conversation.title == DEFAULT_TITLE:  # the user may have renamed it meanwhile
            conversation.title = title
