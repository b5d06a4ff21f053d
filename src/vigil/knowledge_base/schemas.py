"""Wire shapes of Kibana's Knowledge Base API (kbn-elastic-assistant-common, schemas/knowledge_base/*).

Unknown keys are dropped, as Kibana's zod schemas strip them. Text refuses NUL characters, which
PostgreSQL cannot store.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from vigil.validation import reject_nul

_TEXT = r"^[^\x00]*\S[^\x00]*$"  # at least one non-blank character, no NUL
Name = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=_TEXT)]
Content = Annotated[str, StringConstraints(min_length=1, max_length=1_000_000, pattern=_TEXT)]
Plain = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00]*$")]
EntryId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]+$")]
# Kibana's KnowledgeBaseResource: `user` and `security_labs` today, `esql` in earlier versions.
KbResource = Literal["user", "security_labs", "esql"]
SortField = Literal["created_at", "is_default", "title", "updated_at", "name"]
SortOrder = Literal["asc", "desc"]

MAX_BULK_OPERATIONS = 100


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)


class User(BaseModel):
    id: str | None = None
    name: str | None = None


class InputSchemaField(WireModel):
    fieldName: Plain
    fieldType: Plain
    description: Plain


class _Sharing(WireModel):
    namespace: str | None = None  # the space comes from the URL; accepted and ignored
    users: list[User] | None = None
    # `global: true` (or `users: []`) shares the entry with the whole space.
    global_: bool | None = Field(None, alias="global")


class DocumentEntryCreateFields(_Sharing):
    type: Literal["document"]
    name: Name
    kbResource: KbResource
    source: Plain
    text: Content
    required: bool | None = None
    vector: dict[str, Any] | None = None  # Kibana's ELSER tokens: accepted, Vigil embeds itself


class IndexEntryCreateFields(_Sharing):
    type: Literal["index"]
    name: Name
    index: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=_TEXT)]
    field: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=_TEXT)]
    description: Content
    queryDescription: Content
    inputSchema: list[InputSchemaField] | None = Field(None, max_length=100)
    outputFields: list[Plain] | None = Field(None, max_length=1000)


KnowledgeBaseEntryCreateProps = Annotated[
    DocumentEntryCreateFields | IndexEntryCreateFields, Field(discriminator="type")
]


class DocumentEntryUpdateFields(DocumentEntryCreateFields):
    id: EntryId | None = None  # the path's id wins on PUT; required in `_bulk_action`


class IndexEntryUpdateFields(IndexEntryCreateFields):
    id: EntryId | None = None


KnowledgeBaseEntryUpdateProps = Annotated[
    DocumentEntryUpdateFields | IndexEntryUpdateFields, Field(discriminator="type")
]


class BulkActionBase(WireModel):
    query: Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")] | None = None
    ids: list[EntryId] | None = Field(None, min_length=1)


class PerformKnowledgeBaseEntryBulkActionRequestBody(WireModel):
    delete: BulkActionBase | None = None
    create: list[KnowledgeBaseEntryCreateProps] | None = None
    update: list[KnowledgeBaseEntryUpdateProps] | None = None


class KnowledgeBaseResponse(BaseModel):
    success: bool | None = None


class BuiltinCollectionStatus(BaseModel):
    name: str
    title: str
    version: str
    entries: int
    source: str


class KnowledgeBaseStatusResponse(BaseModel):
    """Kibana's status fields, then Vigil's own (its models are embedded, not ELSER deployments)."""

    elser_exists: bool
    index_exists: bool
    is_setup_available: bool
    is_setup_in_progress: bool
    pipeline_exists: bool
    security_labs_exists: bool
    user_data_exists: bool
    product_documentation_status: str
    embedding_model_id: str
    embedding_model_available: bool
    pending_embeddings: int
    builtin_collections: list[BuiltinCollectionStatus]


# --- responses -----------------------------------------------------------------------------------


class _EntryResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    namespace: str
    global_: bool = Field(alias="global")
    users: list[User]
    createdAt: str
    createdBy: str
    updatedAt: str
    updatedBy: str


class DocumentEntry(_EntryResponse):
    type: Literal["document"]
    kbResource: str
    source: str
    text: str
    required: bool
    url: str | None = None  # Vigil: link to the original of a built-in entry


class IndexEntry(_EntryResponse):
    type: Literal["index"]
    index: str
    field: str
    description: str
    queryDescription: str
    inputSchema: list[InputSchemaField]
    outputFields: list[str]


KnowledgeBaseEntryResponse = Annotated[DocumentEntry | IndexEntry, Field(discriminator="type")]


class FoundEntry(BaseModel):
    """An entry of `_find`: all of it, or the fields `fields=` asked for (with id, type and name)."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: Literal["document", "index"]
    name: str


class FindKnowledgeBaseEntriesResponse(BaseModel):
    page: int
    perPage: int
    total: int
    data: list[FoundEntry]


class KnowledgeBaseEntryDeleteResponse(BaseModel):
    id: str


class EntryDetailsInError(BaseModel):
    id: str
    name: str | None = None


class NormalizedKnowledgeBaseEntryError(BaseModel):
    message: str
    statusCode: int
    err_code: str | None = None
    knowledgeBaseEntries: list[EntryDetailsInError]


class SkipResult(BaseModel):
    id: str
    name: str | None = None
    skip_reason: Literal["KNOWLEDGE_BASE_ENTRY_NOT_MODIFIED"]


class BulkResults(BaseModel):
    updated: list[KnowledgeBaseEntryResponse]
    created: list[KnowledgeBaseEntryResponse]
    deleted: list[str]
    skipped: list[SkipResult]


class BulkSummary(BaseModel):
    failed: int
    skipped: int
    succeeded: int
    total: int


class BulkAttributes(BaseModel):
    results: BulkResults
    summary: BulkSummary
    errors: list[NormalizedKnowledgeBaseEntryError] | None = None


class KnowledgeBaseEntryBulkCrudActionResponse(BaseModel):
    success: bool | None = None
    statusCode: int | None = None
    message: str | None = None
    knowledgeBaseEntriesCount: int | None = None
    attributes: BulkAttributes
