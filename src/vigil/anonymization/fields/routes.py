"""HTTP routes of the Anonymization Fields API: translate requests to service calls, nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from vigil.anonymization.fields import bulk, schemas, service
from vigil.auth.principal import Principal
from vigil.auth.privileges import Level
from vigil.db.engine import Database
from vigil.errors import Forbidden
from vigil.paging import MAX_RESULT_WINDOW, split_fields
from vigil.web.deps import AssistantReader, CurrentPrincipal, Db, SpaceId, require_xsrf_header
from vigil.web.openapi import kibana_error_responses

PUBLIC = "/api/security_ai_assistant/anonymization_fields"

# Kibana guards `_bulk_action` with this privilege; Vigil grants it with the assistant
# customize sub-privilege (Grants.assistant_customize).
UPDATE_PRIVILEGE = "securitySolution-updateAIAssistantAnonymization"

router = APIRouter(
    tags=["anonymization fields"],
    responses=kibana_error_responses(400, 401, 403, 413),
    dependencies=[Depends(require_xsrf_header)],
)


def require_anonymization_update(request: Request, principal: CurrentPrincipal) -> Principal:
    grants = principal.grants
    if grants.assistant < Level.ALL or not grants.assistant_customize:
        raise Forbidden(
            f"API [{request.method} {request.url.path}] is unauthorized for user "
            f"[{principal.username}], this action is granted by the Kibana privileges "
            f"[{UPDATE_PRIVILEGE}] (Vigil: elasticAssistant all with securitySolution-aiAssistantCustomize)"
        )
    return principal


AnonymizationEditor = Annotated[Principal, Depends(require_anonymization_update)]


def ensure_defaults(database: Database, space_id: str) -> None:
    """Seeds the shipped fields into a space the first time it is used (once, race-safe)."""
    with database.session(readonly=True) as session:
        seeded = service.is_seeded(session, space_id)
    if not seeded:
        with database.session() as session:
            service.seed_defaults(session, space_id)


@router.get(
    f"{PUBLIC}/_find",
    response_model=schemas.FindAnonymizationFieldsResponse,
    response_model_exclude_none=True,
    operation_id="FindAnonymizationFields",
    summary="Find the anonymization fields of the space",
)
def find_anonymization_fields(
    database: Db,
    principal: AssistantReader,
    space_id: SpaceId,
    fields: Annotated[list[str] | None, Query()] = None,
    filter: Annotated[str | None, Query(pattern=r"^[^\x00]*$")] = None,
    sort_field: Annotated[schemas.SortField, Query()] = "updated_at",
    sort_order: Annotated[schemas.SortOrder, Query()] = "desc",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=0, le=MAX_RESULT_WINDOW)] = 20,
    all_data: Annotated[bool | None, Query()] = None,
) -> dict[str, Any]:
    ensure_defaults(database, space_id)
    query = service.FindQuery(
        page=page,
        per_page=per_page,
        sort_field=sort_field,
        sort_order=sort_order,
        filter=filter,
        fields=split_fields(fields),
        all_data=bool(all_data),
    )
    with database.session(readonly=True) as session:
        result = service.find(session, space_id, query)
    body: dict[str, Any] = {
        "page": page,
        "perPage": per_page,
        "total": result.total,
        "data": result.data,
        "aggregations": result.aggregations,
    }
    if result.all is not None:
        body["all"] = result.all
    return body


@router.post(
    f"{PUBLIC}/_bulk_action",
    response_model=schemas.AnonymizationFieldsBulkCrudActionResponse,
    response_model_exclude_none=True,
    operation_id="PerformAnonymizationFieldsBulkAction",
    summary="Create, update and delete anonymization fields in bulk",
)
def bulk_action(
    body: schemas.PerformAnonymizationFieldsBulkActionRequestBody,
    database: Db,
    principal: AnonymizationEditor,
    space_id: SpaceId,
) -> dict[str, Any]:
    ensure_defaults(database, space_id)
    return bulk.perform(database, principal, space_id, body)
