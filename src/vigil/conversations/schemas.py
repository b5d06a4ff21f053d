"""Wire shapes of Kibana's Conversations API (kbn-elastic-assistant-common, conversations/*).

Unknown keys are dropped, not rejected, as Kibana's zod schemas strip them: a client written
for a newer Kibana keeps working.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from vigil.validation import reject_nul

NonEmptyString = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
MessageRole = Literal["system", "user", "assistant"]
ConversationCategory = Literal["assistant", "insights"]
Provider = Literal["OpenAI", "Azure OpenAI", "Other"]
SortField = Literal["created_at", "title", "updated_at"]
SortOrder = Literal["asc", "desc"]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)


class TraceData(WireModel):
    transactionId: str | None = None
    traceId: str | None = None


class ContentReference(BaseModel):
    """One of Kibana's content references (KnowledgeBaseEntry, SecurityAlert, EsqlQuery, Href, ...)."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: Literal[
        "KnowledgeBaseEntry", "SecurityAlert", "SecurityAlertsPage", "ProductDocumentation", "EsqlQuery", "Href"
    ]


class MessageMetadata(WireModel):
    contentReferences: dict[str, ContentReference] | None = None


class Message(WireModel):
    content: str
    reader: dict[str, Any] | None = None
    role: MessageRole
    timestamp: NonEmptyString
    isError: bool | None = None
    traceData: TraceData | None = None
    metadata: MessageMetadata | None = None


class ApiConfig(WireModel):
    connectorId: str
    actionTypeId: str
    defaultSystemPromptId: str | None = None
    provider: Provider | None = None
    model: str | None = None


class ConversationSummary(WireModel):
    content: str | None = None
    timestamp: NonEmptyString | None = None
    public: bool | None = None
    confidence: Literal["low", "medium", "high"] | None = None


class User(WireModel):
    id: str | None = None
    name: str | None = None


class ConversationCreateProps(WireModel):
    id: str | None = Field(None, max_length=255)
    title: str
    category: ConversationCategory | None = None
    messages: list[Message] | None = None
    apiConfig: ApiConfig | None = None
    isDefault: bool | None = None
    excludeFromLastConversationStorage: bool | None = None
    replacements: dict[str, str] | None = None


class ConversationUpdateProps(WireModel):
    # Kibana takes the id from the path; the body's copy is accepted and ignored.
    id: NonEmptyString | None = None
    title: str | None = None
    category: ConversationCategory | None = None
    messages: list[Message] | None = None
    apiConfig: ApiConfig | None = None
    summary: ConversationSummary | None = None
    excludeFromLastConversationStorage: bool | None = None
    replacements: dict[str, str] | None = None
    # Sharing (Kibana 9.2): [] shares with the whole space, [owner] is private, more is restricted.
    users: list[User] | None = None


class BulkUpdateProps(ConversationUpdateProps):
    id: NonEmptyString  # type: ignore[assignment]


class ConversationMessageCreateProps(WireModel):
    messages: list[Message] = Field(min_length=1)


class ConversationResponse(BaseModel):
    id: str
    title: str
    category: ConversationCategory
    summary: ConversationSummary | None = None
    timestamp: str | None = None
    updatedAt: str | None = None
    createdAt: str
    replacements: dict[str, str] | None = None
    users: list[User]
    createdBy: User | None = None
    messages: list[Message] | None = None
    apiConfig: ApiConfig | None = None
    isDefault: bool | None = None
    excludeFromLastConversationStorage: bool | None = None
    namespace: str


class FindConversationsResponse(BaseModel):
    page: int
    perPage: int
    total: int
    data: list[dict[str, Any]]


class DeleteAllRequest(WireModel):
    excludedIds: list[str] | None = None


class DeleteAllResponse(BaseModel):
    success: bool
    totalDeleted: int
    failures: list[str]


class BulkActionBase(WireModel):
    query: str | None = None
    ids: list[str] | None = Field(None, min_length=1)


class BulkActionRequest(WireModel):
    delete: BulkActionBase | None = None
    create: list[ConversationCreateProps] | None = None
    update: list[BulkUpdateProps] | None = None


class BulkSkipResult(BaseModel):
    id: str
    name: str | None = None
    skip_reason: Literal["CONVERSATION_NOT_MODIFIED"]


class BulkErrorDetail(BaseModel):
    id: str
    name: str | None = None


class BulkError(BaseModel):
    message: str
    status_code: int
    err_code: str | None = None
    conversations: list[BulkErrorDetail]


class BulkResults(BaseModel):
    updated: list[ConversationResponse]
    created: list[ConversationResponse]
    deleted: list[str]
    skipped: list[BulkSkipResult]


class BulkSummary(BaseModel):
    failed: int
    skipped: int
    succeeded: int
    total: int


class BulkAttributes(BaseModel):
    results: BulkResults
    summary: BulkSummary
    errors: list[BulkError] | None = None


class BulkActionResponse(BaseModel):
    success: bool | None = None
    status_code: int | None = None
    message: str | None = None
    conversations_count: int | None = None
    attributes: BulkAttributes
