"""Wire shapes of chat/complete (kbn-elastic-assistant-common, chat/post_chat_complete_route)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vigil.conversations.schemas import MessageMetadata, NonEmptyString
from vigil.validation import reject_nul


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: str | None = None
    role: Literal["system", "user", "assistant"]
    data: dict[str, Any] | None = None
    fields_to_anonymize: list[str] | None = None


class ChatCompleteProps(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)

    conversationId: NonEmptyString | None = None
    promptId: str | None = None
    isStream: bool = False
    responseLanguage: str | None = Field(None, max_length=64)
    # Accepted for compatibility; Vigil has no LangSmith tracing and never stores or logs the key.
    langSmithProject: str | None = None
    langSmithApiKey: str | None = None
    connectorId: str
    model: str | None = None
    persist: bool
    messages: list[ChatMessage] = Field(min_length=1)
    # Vigil extension, named like the `size` of Kibana's connector execute API: the "alerts to
    # analyze" of this turn, remembered by a saved conversation for its later turns.
    size: int | None = Field(None, ge=1, le=500)


class TraceData(BaseModel):
    transactionId: str | None = None
    traceId: str | None = None


class ChatCompleteResponse(BaseModel):
    """The non-streamed answer, as Kibana's static response (see the Swimlane seed)."""

    connector_id: str
    data: str
    trace_data: TraceData
    replacements: dict[str, str]
    status: Literal["ok"]
    metadata: MessageMetadata | None = None  # the answer's citations (contentReferences)
    conversationId: str | None = None
