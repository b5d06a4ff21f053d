"""HTTP routes of the Conversations API: translate requests to service calls, nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from vigil.audit.events import audit_event
from vigil.auth.principal import Principal
from vigil.conversations import bulk, schemas, service
from vigil.conversations.access import SharingState, is_same_user
from vigil.paging import MAX_RESULT_WINDOW, split_fields
from vigil.web.deps import AssistantReader, AssistantWriter, Db, SpaceId, require_xsrf_header
from vigil.web.openapi import kibana_error_responses

PUBLIC = "/api/security_ai_assistant/current_user/conversations"
INTERNAL = "/internal/elastic_assistant/current_user/conversations"

router = APIRouter(
    tags=["conversations"],
    responses=kibana_error_responses(400, 401, 403, 404, 413),
    dependencies=[Depends(require_xsrf_header)],
)

_AUDIT_ACTIONS = {
    SharingState.SHARED: ("security_assistant_conversation_shared", "shared"),
    SharingState.PRIVATE: ("security_assistant_conversation_private", "made private"),
    SharingState.RESTRICTED: ("security_assistant_conversation_restricted", "restricted"),
}


def _audit_sharing(
    request: Request,
    principal: Principal,
    space_id: str,
    conversation_id: str,
    title: str,
    change: service.SharingChange,
) -> None:
    action, verb = _AUDIT_ACTIONS[change.state]
    message = f'User has {verb} conversation [id={conversation_id}, title="{title}"]'
    if change.state == SharingState.SHARED:
        message += " to all users in the space"
    elif change.state == SharingState.RESTRICTED:
        others = [u for u in change.users if not is_same_user(u, principal.user_id, principal.username)]
        listed = ", ".join("[" + ", ".join(f"{k}={u[k]}" for k in ("id", "name") if u.get(k)) + "]" for u in others)
        message += f" to user{'s' if len(others) > 1 else ''} ({listed})"
    audit_event(request, principal, space_id, action=action, message=message)


@router.post(
    PUBLIC,
    response_model=schemas.ConversationResponse,
    response_model_exclude_none=True,
    operation_id="CreateConversation",
    responses=kibana_error_responses(409),
    summary="Create a conversation",
)
def create_conversation(
    body: schemas.ConversationCreateProps, database: Db, principal: AssistantWriter, space_id: SpaceId
) -> dict[str, Any]:
    with database.session() as session:
        conversation = service.create(session, principal, space_id, body)
        return service.full_document(session, conversation)


@router.delete(
    PUBLIC,
    response_model=schemas.DeleteAllResponse,
    operation_id="DeleteAllConversations",
    summary="Delete all my conversations",
)
def delete_all_conversations(
    database: Db,
    principal: AssistantWriter,
    space_id: SpaceId,
    body: Annotated[schemas.DeleteAllRequest | None, Body()] = None,
) -> dict[str, Any]:
    excluded = (body.excludedIds if body else None) or []
    with database.session() as session:
        deleted = service.delete_all(session, principal, space_id, excluded)
    return {"success": True, "totalDeleted": deleted, "failures": []}


@router.get(
    f"{PUBLIC}/_find",
    response_model=schemas.FindConversationsResponse,
    operation_id="FindConversations",
    summary="Find the conversations I can see",
)
def find_conversations(
    database: Db,
    principal: AssistantReader,
    space_id: SpaceId,
    fields: Annotated[list[str] | None, Query()] = None,
    filter: Annotated[str | None, Query()] = None,
    sort_field: Annotated[schemas.SortField, Query()] = "updated_at",
    sort_order: Annotated[schemas.SortOrder, Query()] = "desc",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=0, le=MAX_RESULT_WINDOW)] = 20,
    is_owner: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    query = service.FindQuery(
        page=page,
        per_page=per_page,
        sort_field=sort_field,
        sort_order=sort_order,
        filter=filter,
        fields=split_fields(fields),
        is_owner=is_owner,
    )
    with database.session(readonly=True) as session:
        total, data = service.find(session, principal, space_id, query)
    return {"page": page, "perPage": per_page, "total": total, "data": data}


@router.get(
    f"{PUBLIC}/{{id}}",
    response_model=schemas.ConversationResponse,
    response_model_exclude_none=True,
    operation_id="ReadConversation",
    summary="Get a conversation",
)
def read_conversation(
    id: str,
    database: Db,
    principal: AssistantReader,
    space_id: SpaceId,
    deanonymize: Annotated[bool, Query(description="Vigil: show real values instead of placeholders.")] = False,
) -> dict[str, Any]:
    with database.session(readonly=True) as session:
        document = service.full_document(session, service.get_visible(session, principal, space_id, id))
    return service.with_original_values(document) if deanonymize else document


@router.put(
    f"{PUBLIC}/{{id}}",
    response_model=schemas.ConversationResponse,
    response_model_exclude_none=True,
    operation_id="UpdateConversation",
    summary="Update a conversation (title, messages, sharing, ...)",
)
def update_conversation(
    id: str,
    body: schemas.ConversationUpdateProps,
    request: Request,
    database: Db,
    principal: AssistantWriter,
    space_id: SpaceId,
) -> dict[str, Any]:
    with database.session() as session:
        conversation, sharing = service.update(session, principal, space_id, id, body)
        document = service.full_document(session, conversation)
    if sharing is not None:
        _audit_sharing(request, principal, space_id, id, conversation.title, sharing)
    return document


@router.delete(
    f"{PUBLIC}/{{id}}",
    operation_id="DeleteConversation",
    response_model=dict[str, Any],
    summary="Delete a conversation (owner only)",
)
def delete_conversation(id: str, database: Db, principal: AssistantWriter, space_id: SpaceId) -> dict[str, Any]:
    with database.session() as session:
        service.delete_one(session, principal, space_id, id)
    return {}


@router.post(
    f"{PUBLIC}/{{id}}/_duplicate",
    response_model=schemas.ConversationResponse,
    response_model_exclude_none=True,
    operation_id="DuplicateConversation",
    summary="Duplicate a conversation I can see into my own",
)
def duplicate_conversation(id: str, database: Db, principal: AssistantWriter, space_id: SpaceId) -> dict[str, Any]:
    with database.session() as session:
        source = service.get_visible(session, principal, space_id, id)
        copy = service.duplicate(session, principal, space_id, source)
        return service.full_document(session, copy)


@router.post(
    f"{INTERNAL}/{{id}}/messages",
    response_model=schemas.ConversationResponse,
    response_model_exclude_none=True,
    operation_id="AppendConversationMessage",
    summary="Append messages to a conversation",
)
def append_messages(
    id: str,
    body: schemas.ConversationMessageCreateProps,
    database: Db,
    principal: AssistantWriter,
    space_id: SpaceId,
) -> dict[str, Any]:
    with database.session() as session:
        conversation = service.append_messages(session, principal, space_id, id, body.messages)
        return service.full_document(session, conversation)


@router.post(
    f"{INTERNAL}/_bulk_action",
    response_model=schemas.BulkActionResponse,
    response_model_exclude_none=True,
    operation_id="PerformBulkAction",
    summary="Create, update and delete conversations in bulk",
)
def bulk_action(
    body: schemas.BulkActionRequest,
    request: Request,
    database: Db,
    principal: AssistantWriter,
    space_id: SpaceId,
) -> dict[str, Any]:
    def audit(conversation_id: str, title: str, change: service.SharingChange) -> None:
        _audit_sharing(request, principal, space_id, conversation_id, title, change)

    return bulk.perform(database, principal, space_id, body, audit)
