"""Maps every failure, expected or not, to the caller's error envelope with the right status."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from vigil.errors import VigilError
from vigil.web.envelope import error_response
from vigil.web.middleware import PayloadTooLargeError

logger = logging.getLogger("vigil.web")

_LOCATIONS = {
    "body": "request body",
    "query": "request query",
    "path": "request params",
    "header": "request headers",
}

WWW_AUTHENTICATE = 'Basic realm="vigil", ApiKey'


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """`[request body]: messages.0.role: Input should be 'system', 'user' or 'assistant'` (Kibana's style)."""
    parts = []
    for error in errors:
        loc = list(error.get("loc", ()))
        where = _LOCATIONS.get(str(loc[0]), "request") if loc else "request"
        field = ".".join(str(item) for item in loc[1:])
        message = "Required" if error.get("type") == "missing" else error.get("msg", "Invalid value")
        parts.append(f"[{where}]: {field}: {message}" if field else f"[{where}]: {message}")
    return ", ".join(parts)


async def _vigil_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VigilError)
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if exc.status_code == 401 else None
    return error_response(request.url.path, exc.status_code, exc.message, es_type=exc.es_type, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(
        request.url.path,
        400,
        describe_validation_errors(exc.errors()),
        es_type="x_content_parse_exception",
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = "Not Found"
        if not request.url.path.startswith(("/api/", "/internal/")):
            message = f"no handler found for uri [{request.url.path}] and method [{request.method}]"
    else:
        message = str(exc.detail)
    return error_response(request.url.path, exc.status_code, message, headers=getattr(exc, "headers", None))


async def _payload_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PayloadTooLargeError)
    return error_response(request.url.path, 413, exc.message, es_type="content_too_long_exception")


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # Two writers raced for the same key (a client-chosen id, a username): the loser gets the
    # same 409 a sequential request would have got, not a 500.
    logger.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        request.url.path,
        409,
        "conflict: the resource already exists or was changed at the same time",
        es_type="version_conflict_engine_exception",
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request.url.path, 500, "An internal server error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VigilError, _vigil_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PayloadTooLargeError, _payload_too_large)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)
