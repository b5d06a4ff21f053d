"""FastAPI dependencies: the store, the space, and who is calling with what rights."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from vigil.audit.events import audit_event
from vigil.auth.principal import Principal
from vigil.auth.privileges import Level
from vigil.auth.service import Authenticator
from vigil.db.engine import Database
from vigil.errors import BadRequest, Forbidden, Unauthorized
from vigil.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def space_of(request: Request) -> str:
    return getattr(request.state, "space_id", "default")  # type: ignore[no-any-return]


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in a worker
# thread, a trip that costs more than the check itself (several per request).
async def get_space_id(request: Request) -> str:
    return space_of(request)


def _credentials(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing authentication credentials for REST request")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("basic", "apikey"):
        raise Unauthorized(f"unsupported authorization scheme [{scheme}]; use Basic or ApiKey")
    return scheme, credentials.strip()


def _authenticate(request: Request) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    scheme, credentials = _credentials(request)
    return authenticator.authenticate(request.app.state.database, scheme, credentials)


def principal_of(request: Request) -> Principal:
    """Who is calling (401 otherwise); blocking (a database read unless recently verified)."""
    cached = getattr(request.state, "principal", None)
    if cached is None:
        try:
            cached = _authenticate(request)
        except Unauthorized as exc:
            if request.headers.get("authorization"):  # a wrong credential, not a missing one
                audit_event(
                    request,
                    None,
                    space_of(request),
                    action="user_login",
                    message=f"Failed attempt to login: {exc.message}",
                    category="authentication",
                    event_type="start",
                    outcome="failure",
                )
            raise
        request.state.principal = cached
    return cached  # type: ignore[no-any-return]


async def get_principal(request: Request) -> Principal:
    """`principal_of` as a dependency: a credential verified moments ago is answered on the event
    loop; anything else goes to a worker thread (database read, maybe argon2)."""
    cached = getattr(request.state, "principal", None)
    if cached is None:
        header = request.headers.get("authorization") or ""
        scheme, _, credentials = header.partition(" ")
        authenticator: Authenticator = request.app.state.authenticator
        cached = authenticator.remembered(scheme.lower(), credentials.strip()) if header else None
        if cached is None:
            return await run_in_threadpool(principal_of, request)
        request.state.principal = cached
    return cached  # type: ignore[no-any-return]


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def require_xsrf_header(request: Request, _: CurrentPrincipal) -> None:
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


def require_assistant(level: Level) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """Gate for every assistant route: `read` for GETs, `all` for changes."""

    async def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        if principal.grants.assistant < level:
            raise _forbidden(request, principal, "elasticAssistant")
        return principal

    return dependency


async def require_assistant_customize(request: Request, principal: CurrentPrincipal) -> Principal:
    if principal.grants.assistant < Level.ALL or not principal.grants.assistant_customize:
        raise _forbidden(request, principal, "elasticAssistant, securitySolution-aiAssistantCustomize")
    return principal


async def require_manage_security(request: Request, principal: CurrentPrincipal) -> Principal:
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
