"""Kibana's HTTP conventions, applied before any route runs (pure ASGI, no per-request task).

- `/s/{space_id}/...` answers like `/...` inside that space (request.state.space_id).
- `elastic-api-version`: checked on Kibana routes and echoed on their responses.
- (`kbn-xsrf` is checked after authentication, as Kibana does: see web/deps.py.)
- Body size limits: Kibana's maxPayload on Kibana routes, a larger one for bulk ingest.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.settings import INTERNAL_API_VERSION, KIBANA_API_VERSION, Settings
from vigil.web.envelope import error_response, is_kibana_path

DEFAULT_SPACE = "default"
_SPACE_PREFIX = re.compile(r"^/s/([a-z0-9_\-]+)(/.*)$")


class SpaceMiddleware:
    """Strips `/s/{space_id}` from the path and records the space for the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            space_id = DEFAULT_SPACE
            match = _SPACE_PREFIX.match(scope["path"])
            if match:
                space_id, rest = match.group(1), match.group(2)
                scope = dict(scope, path=rest, raw_path=rest.encode())
            scope.setdefault("state", {})["space_id"] = space_id
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _supported_version(path: str) -> str:
    return INTERNAL_API_VERSION if path.startswith("/internal/") else KIBANA_API_VERSION


class KibanaProtocolMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kibana = is_kibana_path(path)
        limit = self.settings.max_payload_bytes if kibana else self.settings.max_bulk_payload_bytes

        rejection = self._reject(scope, path, kibana, limit)
        if rejection is not None:
            await rejection(scope, receive, send)
            return

        limiter = _BodyLimiter(receive, limit)
        extra_headers = [(b"elastic-api-version", _supported_version(path).encode())] if kibana else []
        replaced = False

        async def guarded_send(message: Message) -> None:
            # A streamed body that outgrew the limit: whatever the app answers (FastAPI reports a
            # body it could not read as 400), the caller gets the 413 it deserves.
            nonlocal replaced
            if limiter.exceeded:
                if not replaced:
                    replaced = True
                    response = _payload_too_large(path, limit)
                    await response(scope, _empty_receive, send)
                return
            if message["type"] == "http.response.start" and extra_headers:
                message = dict(message, headers=[*message.get("headers", []), *extra_headers])
            await send(message)

        await self.app(scope, limiter.receive, guarded_send)

    def _reject(self, scope: Scope, path: str, kibana: bool, limit: int) -> Any:
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return _payload_too_large(path, limit)
        if not kibana:
            return None
        requested = _header(scope, b"elastic-api-version")
        supported = _supported_version(path)
        if requested is not None and requested != supported:
            return error_response(
                path, 400, f'Invalid version. Received "{requested}", expected one of ["{supported}"]'
            )
        return None


def _payload_too_large(path: str, limit: int) -> Any:
    return error_response(
        path,
        413,
        f"Payload content length greater than maximum allowed: {limit}",
        es_type="content_too_long_exception",
    )


class PayloadTooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        self.message = f"Payload content length greater than maximum allowed: {limit}"
        super().__init__(self.message)


class _BodyLimiter:
    """Counts streamed (chunked) bodies too, which carry no Content-Length to check up front."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self._seen = 0
        self.exceeded = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                self.exceeded = True
                raise PayloadTooLargeError(self._limit)
        return message


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}
