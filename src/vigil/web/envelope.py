"""The two error shapes Vigil speaks: Kibana's on Kibana routes, Elasticsearch's on the rest."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

KIBANA_PREFIXES = ("/api/", "/internal/")
_SPACE_PREFIX = re.compile(r"^/s/[a-z0-9_\-]+(?=/)")


def is_kibana_path(path: str) -> bool:
    # Errors raised outside the space middleware (unexpected 500s) still see the /s/{id} prefix.
    path = _SPACE_PREFIX.sub("", path, count=1)
    return path.startswith(KIBANA_PREFIXES) or path in ("/api", "/internal")


def kibana_error_body(status_code: int, message: str) -> dict[str, Any]:
    return {"statusCode": status_code, "error": HTTPStatus(status_code).phrase, "message": message}


def es_error_body(status_code: int, error_type: str, reason: str) -> dict[str, Any]:
    cause = {"type": error_type, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status_code}


def error_response(
    path: str,
    status_code: int,
    message: str,
    *,
    es_type: str = "exception",
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = (
        kibana_error_body(status_code, message)
        if is_kibana_path(path)
        else es_error_body(status_code, es_type, message)
    )
    return JSONResponse(body, status_code=status_code, headers=headers)
