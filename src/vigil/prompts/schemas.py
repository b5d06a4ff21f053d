"""Wire shapes of Kibana's Prompts API (kbn-elastic-assistant-common, schemas/prompts/*).

Unknown keys are dropped, as Kibana's zod schemas strip them. Text fields refuse NUL characters,
which PostgreSQL cannot store.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# At least one non-blank character, no NUL.
_TEXT = r"^[^\x00]*\S[^\x00]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_TEXT)]
Content = Annotated[str, StringConstraints(min_length=1, pattern=_TEXT)]
Color = Annotated[str, StringConstraints(max_length=64, pattern=r"^[^\x00]*$")]
Category = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_TEXT)]
Consumer = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\x00]*$")]
PromptId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]+$")]
PromptType = Literal["system", "quick"]
SortField = Literal["created_at", "is_default", "name", "updated_at"]
SortOrder = Literal["asc", "desc"]

MAX_BULK_OPERATIONS = 100  # Kibana's PROMPTS_TABLE_MAX_PAGE_SIZE


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class User(BaseModel):
    id: str | None = None
    name: str | None = None


class PromptCreateProps(WireModel):
    name: Name
    promptType: PromptType
    content: Content
    color: Color | None = None
    categories: list[Category] | None = Field(None, max_length=100)
    isNewConversationDefault: bool | None = None
    isDefault: bool | None = None
    consumer: Consumer | None = None


class PromptUpdateProps(WireModel):
    id: PromptId
    content: Content | None = None
    color: Color | None = None
    categories: list[Category] | None = Field(None, max_length=100)
    isNewConversationDefault: bool | None = None
    isDefault: bool | None = None
    consumer: Consumer | None = None


class BulkActionBase(WireModel):
    query: Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")] | None = None
    ids: list[PromptId] | None = Field(None, min_length=1)


class PerformPromptsBulkActionRequestBody(WireModel):
    delete: BulkActionBase | None = None
    create: list[PromptCreateProps] | None = None
    update: list[PromptUpdateProps] | None = None


class PromptResponse(BaseModel):
    id: str
    timestamp: str | None = None
    name: str
    promptType: PromptType
    content: str
    categories: list[str] | None = None
    color: str | None = None
    isNewConversationDefault: bool | None = None
    isDefault: bool | None = None
    consumer: str | None = None
    updatedAt: str | None = None
    updatedBy: str | None = None
    createdAt: str | None = None
    createdBy: str | None = None
    users: list[User] | None = None
    namespace: str | None = None


class FindPromptsResponse(BaseModel):
    page: int
    perPage: int
    total: int
    data: list[PromptResponse]


class PromptsBulkActionSkipResult(BaseModel):
    id: str
    name: str | None = None
    skip_reason: Literal["PROMPT_FIELD_NOT_MODIFIED"]


class PromptDetailsInError(BaseModel):
    id: str
    name: str | None = None


class NormalizedPromptError(BaseModel):
    message: str
    status_code: int
    err_code: str | None = None
    prompts: list[PromptDetailsInError]


class PromptsBulkCrudActionResults(BaseModel):
    updated: list[PromptResponse]
    created: list[PromptResponse]
    deleted: list[str]
    skipped: list[PromptsBulkActionSkipResult]


class BulkCrudActionSummary(BaseModel):
    failed: int
    skipped: int
    succeeded: int
    total: int


class PromptsBulkAttributes(BaseModel):
    results: PromptsBulkCrudActionResults
    summary: BulkCrudActionSummary
    errors: list[NormalizedPromptError] | None = None


class PromptsBulkCrudActionResponse(BaseModel):
    success: bool | None = None
    status_code: int | None = None
    message: str | None = None
    prompts_count: int | None = None
    attributes: PromptsBulkAttributes
