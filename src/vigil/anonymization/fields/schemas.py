"""Wire shapes of Kibana's Anonymization Fields API (kbn-elastic-assistant-common,
schemas/anonymization_fields/*).

Unknown keys are dropped, as Kibana's zod schemas strip them. Text refuses NUL characters, which
PostgreSQL cannot store.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# At least one non-blank character, no NUL.
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*\S[^\x00]*$")]
FieldId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]+$")]
SortField = Literal["created_at", "anonymized", "allowed", "field", "updated_at"]
SortOrder = Literal["asc", "desc"]

MAX_BULK_OPERATIONS = 100  # Kibana's ANONYMIZATION_FIELDS_TABLE_MAX_PAGE_SIZE


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AnonymizationFieldCreateProps(WireModel):
    field: FieldName
    allowed: bool | None = None
    anonymized: bool | None = None


class AnonymizationFieldUpdateProps(WireModel):
    id: FieldId
    allowed: bool | None = None
    anonymized: bool | None = None


class BulkActionBase(WireModel):
    query: Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")] | None = None
    ids: list[FieldId] | None = Field(None, min_length=1)


class PerformAnonymizationFieldsBulkActionRequestBody(WireModel):
    delete: BulkActionBase | None = None
    create: list[AnonymizationFieldCreateProps] | None = None
    update: list[AnonymizationFieldUpdateProps] | None = None


class AnonymizationFieldResponse(BaseModel):
    id: str
    timestamp: str | None = None
    field: str
    allowed: bool | None = None
    anonymized: bool | None = None
    updatedAt: str | None = None
    updatedBy: str | None = None
    createdAt: str | None = None
    createdBy: str | None = None
    namespace: str | None = None


class DocCount(BaseModel):
    doc_count: int = 0


class FieldStatusBuckets(BaseModel):
    anonymized: DocCount | None = None
    allowed: DocCount | None = None
    denied: DocCount | None = None


class FieldStatus(BaseModel):
    buckets: FieldStatusBuckets | None = None


class FindAggregations(BaseModel):
    field_status: FieldStatus | None = None


class FindAnonymizationFieldsResponse(BaseModel):
    page: int
    perPage: int
    total: int
    data: list[AnonymizationFieldResponse]
    all: list[AnonymizationFieldResponse] | None = None
    aggregations: FindAggregations | None = None


class AnonymizationFieldsBulkActionSkipResult(BaseModel):
    id: str
    name: str | None = None
    skip_reason: Literal["ANONYMIZATION_FIELD_NOT_MODIFIED"]


class AnonymizationFieldDetailsInError(BaseModel):
    id: str
    name: str | None = None


class NormalizedAnonymizationFieldError(BaseModel):
    message: str
    status_code: int
    err_code: str | None = None
    anonymization_fields: list[AnonymizationFieldDetailsInError]


class AnonymizationFieldsBulkCrudActionResults(BaseModel):
    updated: list[AnonymizationFieldResponse]
    created: list[AnonymizationFieldResponse]
    deleted: list[str]
    skipped: list[AnonymizationFieldsBulkActionSkipResult]


class BulkCrudActionSummary(BaseModel):
    failed: int
    skipped: int
    succeeded: int
    total: int


class AnonymizationFieldsBulkAttributes(BaseModel):
    results: AnonymizationFieldsBulkCrudActionResults
    summary: BulkCrudActionSummary
    errors: list[NormalizedAnonymizationFieldError] | None = None


class AnonymizationFieldsBulkCrudActionResponse(BaseModel):
    success: bool | None = None
    status_code: int | None = None
    message: str | None = None
    anonymization_fields_count: int | None = None
    attributes: AnonymizationFieldsBulkAttributes
