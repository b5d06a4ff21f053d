"""FastAPI dependencies: the store, the space, and who is calling with what rights."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from vigil.audit.events import audit_event
from vigil.auth.principal import Principal
from vigil.auth.privileges import Level
from vigil.auth.service import Authenticator, decode_api_key_credentials
from vigil.db.engine import Database
from vigil.errors import BadRequest, Forbidden, Unauthorized
from vigil.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def get_space_id(request: Request) -> str:
    return getattr(request.state, "space_id", "default")  # type: ignore[no-any-return]


def _authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing authentication credentials for REST request")
    scheme, _, credentials = header.partition(" ")
    database: Database = request.app.state.database
    authenticator: Authenticator = request.app.state.authenticator
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "basic":
        try:
            username, sep, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthorized("invalid Basic credentials") from exc
        if not sep:
            raise Unauthorized("invalid Basic credentials")
        with database.session(readonly=True) as session:
            return authenticator.basic(session, username, password)
    if scheme == "apikey":
        key_id, secret = decode_api_key_credentials(credentials)
        with database.session(readonly=True) as session:
            return authenticator.api_key(session, key_id, secret)
    raise Unauthorized(f"unsupported authorization scheme [{scheme}]; use Basic or ApiKey")


def get_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is None:
        try:
            cached = _authenticate(request)
        except Unauthorized as exc:
            if request.headers.get("authorization"):  # a wrong credential, not a missing one
                audit_event(
                    request,
                    None,
                    get_space_id(request),
                    action="user_login",
                    message=f"Failed attempt to login: {exc.message}",
                    category="authentication",
                    event_type="start",
                    outcome="failure",
                )
            raise
        request.state.principal = cached
    return cached  # type: ignore[no-any-return]


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require_xsrf_header(request: Request, _: CurrentPrincipal) -> None:
    """Kibana's CSRF guard, run after authentication as Kibana runs it: a write request to a
    Kibana route must carry `kbn-xsrf` (any value) or `kbn-version`. Browsers cannot add custom
    headers to cross-site requests without CORS, so the header proves the caller is not a form."""
    settings: Settings = request.app.state.settings
    if (
        request.method not in _SAFE_METHODS
        and not settings.xsrf_disable_protection
        and request.url.path not in settings.xsrf_allowlist
        and "kbn-xsrf" not in request.headers
        and "kbn-version" not in request.headers
    ):
        raise BadRequest("Request must contain a kbn-xsrf header.")


SpaceId = Annotated[str, Depends(get_space_id)]
Db = Annotated[Database, Depends(get_database)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def _forbidden(request: Request, principal: Principal, privilege: str) -> Forbidden:
    return Forbidden(
        f"API [{request.method} {request.url.path}] is unauthorized for user "
        f"[{principal.username}], this action is granted by the Kibana privileges [{privilege}]"
    )


def require_assistant(level: Level) -> Callable[[Request, Principal], Principal]:
    """Gate for every assistant route: `read` for GETs, `all` for changes."""

    def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        if principal.grants.assistant < level:
            raise _forbidden(request, principal, "elasticAssistant")
        return principal

    return dependency


def require_assistant_customize(request: Request, principal: CurrentPrincipal) -> Principal:
    if principal.grants.assistant < Level.ALL or not principal.grants.assistant_customize:
        raise _forbidden(request, principal, "elasticAssistant, securitySolution-aiAssistantCustomize")
    return principal


def require_manage_security(request: Request, principal: CurrentPrincipal) -> Principal:
    if not principal.grants.manage_security:
        raise Forbidden(
            f"action [{request.method} {request.url.path}] is unauthorized for user "
            f"[{principal.username}] with roles [{','.join(principal.roles)}], this action is granted "
            "by the cluster privileges [manage_security,all]"
        )
    return principal


AssistantReader = Annotated[Principal, Depends(require_assistant(Level.READ))]
AssistantWriter = Annotated[Principal, Depends(require_assistant(Level.ALL))]
SecurityAdmin = Annotated[Principal, Depends(require_manage_security)]
