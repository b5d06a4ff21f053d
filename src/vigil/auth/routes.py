"""Elasticsearch's `/_security` API for users and API keys, answered in Elasticsearch's shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Query, Request
from starlette.responses import JSONResponse

from vigil.audit.events import audit_event
from vigil.auth import service
from vigil.auth.models import ApiKey, User
from vigil.auth.principal import Principal
from vigil.auth.schemas import (
    ChangePasswordRequest,
    CreateApiKeyRequest,
    InvalidateApiKeyRequest,
    PutUserRequest,
)
from vigil.errors import BadRequest, Forbidden
from vigil.web.deps import AppSettings, CurrentPrincipal, Db, SecurityAdmin, SpaceId
from vigil.web.openapi import es_error_responses

router = APIRouter(tags=["security"], responses=es_error_responses(400, 401, 403))


def _epoch_millis(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def user_document(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "roles": user.roles,
        "full_name": user.full_name,
        "email": user.email,
        "metadata": user.user_metadata,
        "enabled": user.enabled,
    }


@router.put("/_security/user/{username}", operation_id="PutUser", summary="Create or update a user")
@router.post("/_security/user/{username}", operation_id="PostUser", summary="Create or update a user")
def put_user(
    username: str,
    body: PutUserRequest,
    database: Db,
    principal: SecurityAdmin,
    request: Request,
    space_id: SpaceId,
) -> dict[str, bool]:
    with database.session() as session:
        _, created = service.put_user(
            session,
            username,
            password=body.password,
            roles=body.roles,
            full_name=body.full_name,
            email=body.email,
            metadata=body.metadata,
            enabled=body.enabled,
        )
    audit_event(
        request,
        principal,
        space_id,
        action="user_created" if created else "user_updated",
        message=f"User has {'created' if created else 'updated'} user [name={username}]",
        event_type="creation" if created else "change",
    )
    return {"created": created}


@router.get("/_security/user", summary="List users")
def list_users(database: Db, _: SecurityAdmin) -> dict[str, Any]:
    with database.session(readonly=True) as session:
        return {user.username: user_document(user) for user in service.list_users(session)}


@router.get(
    "/_security/user/{username}",
    summary="Get a user",
    responses={404: {"description": "No such user; the body is `{}` as in Elasticsearch."}},
)
def get_user(username: str, database: Db, _: SecurityAdmin) -> JSONResponse:
    with database.session(readonly=True) as session:
        user = service.get_user(session, username)
        if user is None:
            return JSONResponse({}, status_code=404)  # Elasticsearch's answer for an unknown user
        return JSONResponse({user.username: user_document(user)})


@router.delete(
    "/_security/user/{username}",
    summary="Delete a user",
    responses={404: {"description": 'No such user: `{"found": false}`.'}, **es_error_responses(409)},
)
def delete_user(
    username: str, database: Db, principal: SecurityAdmin, request: Request, space_id: SpaceId
) -> JSONResponse:
    with database.session() as session:
        found = service.delete_user(session, username)
    if found:
        audit_event(
            request,
            principal,
            space_id,
            action="user_deleted",
            message=f"User has deleted user [name={username}]",
            event_type="deletion",
        )
    return JSONResponse({"found": found}, status_code=200 if found else 404)


@router.post("/_security/user/{username}/_password", summary="Change a user's password")
def change_password(
    username: str,
    body: ChangePasswordRequest,
    database: Db,
    principal: CurrentPrincipal,
    request: Request,
    space_id: SpaceId,
) -> dict[str, Any]:
    if principal.username != username and not principal.grants.manage_security:
        raise Forbidden(f"user [{principal.username}] may only change their own password")
    with database.session() as session:
        service.set_password(session, username, body.password)
    audit_event(
        request,
        principal,
        space_id,
        action="user_password_changed",
        message=f"User has changed the password of user [name={username}]",
    )
    return {}


@router.get("/_security/_authenticate", summary="Who am I")
def authenticate(principal: CurrentPrincipal) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": principal.username,
        "roles": list(principal.roles),
        "full_name": principal.full_name,
        "email": principal.email,
        "metadata": {},
        "enabled": True,
        "authentication_realm": {"name": "native", "type": "native"},
        "lookup_realm": {"name": "native", "type": "native"},
        "authentication_type": principal.authentication_type,
    }
    if principal.api_key_id:
        body["api_key"] = {"id": principal.api_key_id, "name": principal.api_key_name}
        body["authentication_realm"] = {"name": "_es_api_key", "type": "_es_api_key"}
    return body


@router.post("/_security/api_key", operation_id="CreateApiKey", summary="Create an API key")
@router.put("/_security/api_key", operation_id="PutApiKey", summary="Create an API key")
def create_api_key(
    body: CreateApiKeyRequest,
    database: Db,
    settings: AppSettings,
    principal: CurrentPrincipal,
    request: Request,
    space_id: SpaceId,
) -> dict[str, Any]:
    if body.role_descriptors:
        # Ignoring them would hand out more rights than the caller asked for.
        raise BadRequest("role_descriptors are not supported by Vigil; an API key has its owner's roles")
    if principal.authentication_type == "api_key":
        raise BadRequest("an API key cannot create other API keys; authenticate with a password")
    with database.session() as session:
        created = service.create_api_key(
            session,
            principal.user_id,
            body.name,
            expiration=body.expiration,
            default_expiration=settings.api_key_default_expiration,
            metadata=body.metadata,
        )
    audit_event(
        request,
        principal,
        space_id,
        action="api_key_created",
        message=f"User has created API key [id={created.row.id}, name={created.row.name}]",
        event_type="creation",
    )
    response: dict[str, Any] = {
        "id": created.row.id,
        "name": created.row.name,
        "api_key": created.secret,
        "encoded": created.encoded,
    }
    if created.row.expires_at:
        response["expiration"] = _epoch_millis(created.row.expires_at)
    return response


def _key_document(key: ApiKey, owner: User) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": key.id,
        "name": key.name,
        "creation": _epoch_millis(key.created_at),
        "invalidated": key.invalidated_at is not None,
        "username": owner.username,
        "realm": "native",
        "metadata": key.key_metadata,
    }
    if key.expires_at:
        document["expiration"] = _epoch_millis(key.expires_at)
    if key.invalidated_at:
        document["invalidation"] = _epoch_millis(key.invalidated_at)
    return document


def _owner_scope(principal: Principal, owner: bool, username: str | None) -> dict[str, Any]:
    """Admins see every key (or one user's); everyone else only their own."""
    if owner or not principal.grants.manage_security:
        if username and username != principal.username:
            raise Forbidden(f"user [{principal.username}] may only manage their own API keys")
        return {"owner_id": principal.user_id}
    return {"owner_username": username}


@router.get("/_security/api_key", summary="List API keys")
def get_api_keys(
    database: Db,
    principal: CurrentPrincipal,
    id: str | None = Query(None),
    name: str | None = Query(None),
    owner: bool = Query(False),
    username: str | None = Query(None),
    active_only: bool = Query(False),
) -> dict[str, Any]:
    scope = _owner_scope(principal, owner, username)
    with database.session(readonly=True) as session:
        rows = service.find_api_keys(session, key_ids=[id] if id else None, name=name, active_only=active_only, **scope)
        return {"api_keys": [_key_document(key, user) for key, user in rows]}


@router.delete("/_security/api_key", summary="Invalidate API keys")
def invalidate_api_keys(
    database: Db,
    principal: CurrentPrincipal,
    request: Request,
    space_id: SpaceId,
    body: InvalidateApiKeyRequest = Body(...),
) -> dict[str, Any]:
    ids = list(body.ids or []) + ([body.id] if body.id else [])
    if not ids and not body.name and not body.owner and not body.username:
        raise BadRequest(
            "Validation Failed: 1: One of [api key id(s), api key name, username, realm name] "
            "must be specified if [owner] flag is false;"
        )
    scope = _owner_scope(principal, body.owner, body.username)
    with database.session() as session:
        rows = service.find_api_keys(session, key_ids=ids or None, name=body.name, **scope)
        invalidated, previously = service.invalidate_api_keys(session, [key for key, _ in rows])
    for key_id in invalidated:
        audit_event(
            request,
            principal,
            space_id,
            action="api_key_invalidated",
            message=f"User has invalidated API key [id={key_id}]",
        )
    return {
        "invalidated_api_keys": invalidated,
        "previously_invalidated_api_keys": previously,
        "error_count": 0,
    }
