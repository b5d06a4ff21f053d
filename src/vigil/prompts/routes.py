"""HTTP routes of the Prompts API: translate requests to service calls, nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from vigil.db.engine import Database
from vigil.paging import MAX_RESULT_WINDOW, split_fields
from vigil.prompts import bulk, schemas, service
from vigil.web.deps import AssistantReader, AssistantWriter, Db, SpaceId, require_xsrf_header
from vigil.web.openapi import kibana_error_responses

PUBLIC = "/api/security_ai_assistant/prompts"

router = APIRouter(
    tags=["prompts"],
    responses=kibana_error_responses(400, 401, 403, 413),
    dependencies=[Depends(require_xsrf_header)],
)


def ensure_defaults(database: Database, space_id: str) -> None:
    """Seeds the shipped prompts into a space the first time it is used (idempotent)."""
    with database.session(readonly=True) as session:
        missing = service.defaults_missing(session, space_id)
    if missing:
        with database.session() as session:
            service.seed_defaults(session, space_id)


@router.get(
    f"{PUBLIC}/_find",
    response_model=schemas.FindPromptsResponse,
    response_model_exclude_none=True,
    operation_id="FindPrompts",
    summary="Find the prompts of the space",
)
def find_prompts(
    database: Db,
    principal: AssistantReader,
    space_id: SpaceId,
    fields: Annotated[list[str] | None, Query()] = None,
    filter: Annotated[str | None, Query(pattern=r"^[^\x00]*$")] = None,
    sort_field: Annotated[schemas.SortField, Query()] = "updated_at",
    sort_order: Annotated[schemas.SortOrder, Query()] = "desc",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=0, le=MAX_RESULT_WINDOW)] = 20,
) -> dict[str, Any]:
    ensure_defaults(database, space_id)
    query = service.FindQuery(
        page=page,
        per_page=per_page,
        sort_field=sort_field,
        sort_order=sort_order,
        filter=filter,
        fields=split_fields(fields),
    )
    with database.session(readonly=True) as session:
        total, data = service.find(session, principal, space_id, query)
    return {"page": page, "perPage": per_page, "total": total, "data": data}


@router.post(
    f"{PUBLIC}/_bulk_action",
    response_model=schemas.PromptsBulkCrudActionResponse,
    response_model_exclude_none=True,
    operation_id="PerformPromptsBulkAction",
    summary="Create, update and delete prompts in bulk",
)
def bulk_action(
    body: schemas.PerformPromptsBulkActionRequestBody,
    database: Db,
    principal: AssistantWriter,
    space_id: SpaceId,
) -> dict[str, Any]:
    ensure_defaults(database, space_id)
    return bulk.perform(database, principal, space_id, body)
