"""HTTP routes of Kibana's Knowledge Base API: translate requests to service calls, nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request

from vigil.audit.events import audit_event
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.knowledge_base import bulk, schemas, service, spaces
from vigil.knowledge_base.runtime import KnowledgeBase
from vigil.paging import MAX_RESULT_WINDOW, split_fields
from vigil.web.deps import AssistantReader, AssistantWriter, Db, SpaceId, require_xsrf_header
from vigil.web.openapi import kibana_error_responses

PUBLIC = "/api/security_ai_assistant/knowledge_base"
ENTRIES = f"{PUBLIC}/entries"

router = APIRouter(
    tags=["knowledge base"],
    responses=kibana_error_responses(400, 401, 403, 413),
    dependencies=[Depends(require_xsrf_header)],
)

_AUDIT = {
    "create": ("knowledge_base_entry_create", "creation", "created"),
    "update": ("knowledge_base_entry_update", "change", "updated"),
    "delete": ("knowledge_base_entry_delete", "deletion", "deleted"),
}


def knowledge_base(request: Request) -> KnowledgeBase:
    return request.app.state.knowledge_base  # type: ignore[no-any-return]


Kb = Annotated[KnowledgeBase, Depends(knowledge_base)]


def _audit(request: Request, principal: Principal, space_id: str, action: str, entry_id: str, name: str) -> None:
    # Kibana's knowledgeBaseAuditEvent wording.
    event, event_type, past = _AUDIT[action]
    audit_event(
        request,
        principal,
        space_id,
        action=event,
        event_type=event_type,
        message=f'User has {past} knowledge base entry [id={entry_id}, name="{name}"]',
    )


# --- entries (declared before `/{resource}` so `entries/...` never reads as a resource) ----------


@router.get(
    f"{ENTRIES}/_find",
    response_model=schemas.FindKnowledgeBaseEntriesResponse,
    response_model_exclude_none=True,
    operation_id="FindKnowledgeBaseEntries",
    summary="Find the knowledge base entries of the space",
)
def find_entries(
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
    f"{ENTRIES}/_bulk_action",
    response_model=schemas.KnowledgeBaseEntryBulkCrudActionResponse,
    response_model_exclude_none=True,
    response_model_by_alias=True,
    operation_id="PerformKnowledgeBaseEntryBulkAction",
    summary="Create, update and delete knowledge base entries in bulk",
)
async def bulk_action(
    body: schemas.PerformKnowledgeBaseEntryBulkActionRequestBody,
    request: Request,
    principal: AssistantWriter,
    space_id: SpaceId,
    kb: Kb,
) -> dict[str, Any]:
    response, changes = await to_thread.run_sync(bulk.perform, kb.database, principal, space_id, body, kb.default_model)
    for action, entry_id, name in changes:
        _audit(request, principal, space_id, action, entry_id, name)
    if changes:
        await to_thread.run_sync(kb.after_write, space_id)
    return response


@router.post(
    ENTRIES,
    response_model=schemas.KnowledgeBaseEntryResponse,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    operation_id="CreateKnowledgeBaseEntry",
    summary="Create a knowledge base entry",
)
async def create_entry(
    body: schemas.KnowledgeBaseEntryCreateProps,
    request: Request,
    principal: AssistantWriter,
    space_id: SpaceId,
    kb: Kb,
) -> dict[str, Any]:
    def create() -> dict[str, Any]:
        with kb.database.session() as session:
            return service.entry_document(service.create(session, principal, space_id, body, kb.default_model))

    document = await to_thread.run_sync(create)
    _audit(request, principal, space_id, "create", document["id"], document["name"])
    await to_thread.run_sync(kb.after_write, space_id)
    return document


@router.get(
    f"{ENTRIES}/{{entry_id}}",
    response_model=schemas.KnowledgeBaseEntryResponse,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    operation_id="ReadKnowledgeBaseEntry",
    summary="Read a knowledge base entry",
    responses=kibana_error_responses(404),
)
def read_entry(entry_id: str, database: Db, principal: AssistantReader, space_id: SpaceId) -> dict[str, Any]:
    with database.session(readonly=True) as session:
        return service.entry_document(service.get_visible(session, principal, space_id, entry_id), space_id)


@router.put(
    f"{ENTRIES}/{{entry_id}}",
    response_model=schemas.KnowledgeBaseEntryResponse,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    operation_id="UpdateKnowledgeBaseEntry",
    summary="Update a knowledge base entry",
    responses=kibana_error_responses(404),
)
async def update_entry(
    entry_id: str,
    body: schemas.KnowledgeBaseEntryUpdateProps,
    request: Request,
    principal: AssistantWriter,
    space_id: SpaceId,
    kb: Kb,
) -> dict[str, Any]:
    def change() -> dict[str, Any]:
        with kb.database.session() as session:
            entry = service.update(session, principal, space_id, entry_id, body, kb.default_model)
            return service.entry_document(entry)

    document = await to_thread.run_sync(change)
    _audit(request, principal, space_id, "update", document["id"], document["name"])
    await to_thread.run_sync(kb.after_write, space_id)
    return document


@router.delete(
    f"{ENTRIES}/{{entry_id}}",
    response_model=schemas.KnowledgeBaseEntryDeleteResponse,
    operation_id="DeleteKnowledgeBaseEntry",
    summary="Delete a knowledge base entry",
    responses=kibana_error_responses(404),
)
def delete_entry(
    entry_id: str, request: Request, principal: AssistantWriter, space_id: SpaceId, kb: Kb
) -> dict[str, Any]:
    with kb.database.session() as session:
        entry = service.delete_one(session, principal, space_id, entry_id, kb.default_model)
        name = entry.name
    _audit(request, principal, space_id, "delete", entry_id, name)
    return {"id": entry_id}


# --- the knowledge base itself: status and setup ----------------------------------------------------


def _status(kb: KnowledgeBase, principal: Principal, space_id: str) -> dict[str, Any]:
    return kb.status(principal, space_id)


@router.get(
    PUBLIC,
    response_model=schemas.KnowledgeBaseStatusResponse,
    operation_id="ReadKnowledgeBase",
    summary="Status of the space's knowledge base",
)
@router.get(
    f"{PUBLIC}/{{resource}}",
    response_model=schemas.KnowledgeBaseStatusResponse,
    operation_id="ReadKnowledgeBaseResource",
    summary="Status of the space's knowledge base (Kibana's optional resource is accepted and ignored)",
)
async def read_knowledge_base(
    principal: AssistantReader, space_id: SpaceId, kb: Kb, resource: str | None = None
) -> dict[str, Any]:
    return await to_thread.run_sync(_status, kb, principal, space_id)


@router.post(
    PUBLIC,
    response_model=schemas.KnowledgeBaseResponse,
    operation_id="CreateKnowledgeBase",
    summary="Set up the space's knowledge base: its embedding model and the built-in content",
)
@router.post(
    f"{PUBLIC}/{{resource}}",
    response_model=schemas.KnowledgeBaseResponse,
    operation_id="CreateKnowledgeBaseResource",
    summary="Set up the space's knowledge base (Kibana's optional resource is accepted and ignored)",
)
async def setup_knowledge_base(
    principal: AssistantWriter,
    database: Db,
    space_id: SpaceId,
    kb: Kb,
    resource: str | None = None,
    modelId: Annotated[str | None, Query(max_length=255, pattern=r"^[^\x00]*$")] = None,
    ignoreSecurityLabs: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    await to_thread.run_sync(_check_setup_rights, database, principal, space_id, kb, modelId, ignoreSecurityLabs)
    await to_thread.run_sync(kb.setup, space_id, modelId, ignoreSecurityLabs)
    return {"success": True}


def _check_setup_rights(
    database: Database, principal: Principal, space_id: str, kb: KnowledgeBase, model: str | None, ignore: bool
) -> None:
    """Setting up as things are is open to assistant users (Kibana's UI does it for them); changing
    the space's embedding model or turning the built-in content off needs the customize privilege."""
    with database.session(readonly=True) as session:
        space = spaces.get_space(session, space_id)
    current_model = spaces.model_of(space, kb.default_model)
    current_builtin = space.builtin_enabled if space is not None else True
    if (model is not None and model != current_model) or ignore == current_builtin:
        service.require_customize(principal, "changing the knowledge base's embedding model or built-in content")
