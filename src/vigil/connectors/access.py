"""Who may use connectors: Kibana's Actions & Connectors feature privilege, read or all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from vigil.auth.principal import Principal
from vigil.auth.privileges import Level
from vigil.crypto import SecretBox
from vigil.errors import Forbidden
from vigil.web.deps import CurrentPrincipal


def require_connectors(level: Level) -> Callable[[Request, Principal], Principal]:
    """Gate for every connector route: `read` to list, get and run, `all` to change."""

    def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        if principal.grants.connectors < level:
            privilege = "actions:all" if level >= Level.ALL else "actions:read"
            raise Forbidden(
                f"API [{request.method} {request.url.path}] is unauthorized for user "
                f"[{principal.username}], this action is granted by the Kibana privileges [{privilege}]"
            )
        return principal

    return dependency


def get_secret_box(request: Request) -> SecretBox:
    return request.app.state.secret_box  # type: ignore[no-any-return]


ConnectorsReader = Annotated[Principal, Depends(require_connectors(Level.READ))]
ConnectorsAdmin = Annotated[Principal, Depends(require_connectors(Level.ALL))]
Secrets = Annotated[SecretBox, Depends(get_secret_box)]
