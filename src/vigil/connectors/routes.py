"""HTTP routes of Kibana's connectors (actions) API: translate requests to service calls."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from vigil.audit.events import audit_event
from vigil.auth.principal import Principal
from vigil.connectors import schemas, service
from vigil.connectors.access import ConnectorsAdmin, ConnectorsReader, Secrets
from vigil.connectors.execute import RUN_ERROR_MESSAGE, ConnectorExecutor, error_result
from vigil.connectors.types import CONNECTOR_TYPES, VIGIL_LOCAL
from vigil.crypto import SecretBox
from vigil.errors import VigilError
from vigil.settings import Settings
from vigil.web.deps import AppSettings, Db, SpaceId, require_xsrf_header
from vigil.web.openapi import kibana_error_responses

logger = logging.getLogger("vigil.connectors")

BASE = "/api/actions"
IdPath = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[^\x00]+$", description="The connector id.")]

router = APIRouter(
    tags=["connectors"],
    responses=kibana_error_responses(400, 401, 403, 413),
    dependencies=[Depends(require_xsrf_header)],
)

_AUDIT = {
    "create": ("connector_create", "creation", "created"),
    "update": ("connector_update", "change", "updated"),
    "delete": ("connector_delete", "deletion", "deleted"),
}


def _audit(request: Request, principal: Principal, space_id: str, operation: str, connector_id: str) -> None:
    action, event_type, verb = _AUDIT[operation]
    audit_event(
        request,
        principal,
        space_id,
        action=action,
        event_type=event_type,
        message=f"User has {verb} connector [id={connector_id}]",
    )


def _create(
    request: Request,
    body: schemas.ConnectorCreate,
    database: Db,
    principal: Principal,
    space_id: str,
    secret_box: SecretBox,
    settings: Settings,
    connector_id: str | None,
) -> dict[str, Any]:
    with database.session() as session:
        document = service.create_connector(
            session, principal, space_id, body, secret_box, settings, connector_id=connector_id
        )
    _audit(request, principal, space_id, "create", document["id"])
    return document


@router.post(
    f"{BASE}/connector",
    response_model=schemas.ConnectorResponse,
    response_model_exclude_none=True,
    operation_id="CreateConnector",
    responses=kibana_error_responses(409),
    summary="Create a connector",
)
def create_connector(
    body: schemas.ConnectorCreate,
    request: Request,
    database: Db,
    principal: ConnectorsAdmin,
    space_id: SpaceId,
    secret_box: Secrets,
    settings: AppSettings,
) -> dict[str, Any]:
    return _create(request, body, database, principal, space_id, secret_box, settings, None)


@router.post(
    f"{BASE}/connector/{{id}}",
    response_model=schemas.ConnectorResponse,
    response_model_exclude_none=True,
    operation_id="CreateConnectorWithId",
    responses=kibana_error_responses(409),
    summary="Create a connector with the given id",
)
def create_connector_with_id(
    id: IdPath,
    body: schemas.ConnectorCreate,
    request: Request,
    database: Db,
    principal: ConnectorsAdmin,
    space_id: SpaceId,
    secret_box: Secrets,
    settings: AppSettings,
) -> dict[str, Any]:
    return _create(request, body, database, principal, space_id, secret_box, settings, id)


@router.get(
    f"{BASE}/connector/{{id}}",
    response_model=schemas.ConnectorResponse,
    response_model_exclude_none=True,
    operation_id="GetConnector",
    responses=kibana_error_responses(404),
    summary="Get a connector",
)
def get_connector(
    id: IdPath,
    database: Db,
    principal: ConnectorsReader,
    space_id: SpaceId,
    secret_box: Secrets,
    settings: AppSettings,
) -> dict[str, Any]:
    with database.session(readonly=True) as session:
        return service.get_connector(session, principal, space_id, id, secret_box, settings)


@router.put(
    f"{BASE}/connector/{{id}}",
    response_model=schemas.ConnectorResponse,
    response_model_exclude_none=True,
    operation_id="UpdateConnector",
    responses=kibana_error_responses(404),
    summary="Update a connector (name, config and all of its secrets)",
)
def update_connector(
    id: IdPath,
    body: schemas.ConnectorUpdate,
    request: Request,
    database: Db,
    principal: ConnectorsAdmin,
    space_id: SpaceId,
    secret_box: Secrets,
    settings: AppSettings,
) -> dict[str, Any]:
    with database.session() as session:
        document = service.update_connector(session, principal, space_id, id, body, secret_box, settings)
    _audit(request, principal, space_id, "update", id)
    return document


@router.delete(
    f"{BASE}/connector/{{id}}",
    status_code=204,
    response_class=Response,
    operation_id="DeleteConnector",
    responses=kibana_error_responses(404),
    summary="Delete a connector",
)
def delete_connector(
    id: IdPath,
    request: Request,
    database: Db,
    principal: ConnectorsAdmin,
    space_id: SpaceId,
    settings: AppSettings,
) -> Response:
    with database.session() as session:
        service.delete_connector(session, principal, space_id, id, settings)
    _audit(request, principal, space_id, "delete", id)
    return Response(status_code=204)


@router.get(
    f"{BASE}/connectors",
    response_model=list[schemas.ConnectorListItem],
    response_model_exclude_none=True,
    operation_id="GetConnectors",
    summary="List the connectors of the space, preconfigured ones included",
)
def list_connectors(
    database: Db, principal: ConnectorsReader, space_id: SpaceId, secret_box: Secrets, settings: AppSettings
) -> list[dict[str, Any]]:
    with database.session(readonly=True) as session:
        return service.list_connectors(session, principal, space_id, secret_box, settings)


@router.get(
    f"{BASE}/connector_types",
    response_model=list[schemas.ConnectorTypeResponse],
    operation_id="GetConnectorTypes",
    summary="List the connector types",
)
def list_connector_types(
    principal: ConnectorsReader,
    settings: AppSettings,
    feature_id: Annotated[str | None, Query(max_length=255)] = None,
) -> list[dict[str, Any]]:
    return [
        t.document(enabled=settings.local_model_enabled or t.id != VIGIL_LOCAL)
        for t in CONNECTOR_TYPES.values()
        if feature_id is None or feature_id in t.supported_feature_ids
    ]


@router.post(
    f"{BASE}/connector/{{id}}/_execute",
    response_model=schemas.ExecuteResponse,
    response_model_exclude_none=True,
    operation_id="RunConnector",
    responses=kibana_error_responses(404),
    summary="Run a connector",
)
async def execute_connector(
    id: IdPath,
    body: schemas.ExecuteRequest,
    request: Request,
    database: Db,
    principal: ConnectorsReader,
    space_id: SpaceId,
    secret_box: Secrets,
    settings: AppSettings,
) -> dict[str, Any]:
    def load() -> service.ConnectorRuntime:
        with database.session(readonly=True) as session:
            return service.get_runtime(session, space_id, id, secret_box, settings)

    runtime = await run_in_threadpool(load)
    executor: ConnectorExecutor = request.app.state.connector_executor
    try:
        result = await executor.execute(runtime, body.params)
    except VigilError:
        raise
    except Exception as exc:
        # The exception's text may quote a provider's answer or a request: log its type only.
        logger.error("connector [%s] (%s) failed: %s", runtime.id, runtime.type_id, type(exc).__name__)
        return error_result(runtime, RUN_ERROR_MESSAGE, f"the connector failed ({type(exc).__name__})")
    return {**result, "connector_id": runtime.id}
