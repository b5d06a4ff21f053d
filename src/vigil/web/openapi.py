"""The OpenAPI document at /api/vigil/openapi.json, made to say what the routes really do.

FastAPI documents a 422 for every validated route; Vigil answers 400 as Kibana does, so the
422s are replaced, and the error envelopes each route family really returns are declared.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel


class KibanaError(BaseModel):
    statusCode: int
    error: str
    message: str


class EsErrorCause(BaseModel):
    type: str
    reason: str


class EsErrorDetail(EsErrorCause):
    root_cause: list[EsErrorCause]


class EsError(BaseModel):
    error: EsErrorDetail
    status: int


_DESCRIPTIONS = {
    400: "Bad request: the message names the field or parameter at fault.",
    401: "Missing or invalid credentials.",
    403: "The caller lacks the privilege this route needs.",
    404: "Not found, or not visible to the caller.",
    409: "Conflict with the current state.",
    413: "Request body larger than the configured limit.",
    429: "The LLM provider kept rate-limiting requests.",
    502: "The LLM provider failed or answered something unreadable.",
    504: "The LLM provider did not answer in time.",
}


def kibana_error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": KibanaError, "description": _DESCRIPTIONS[code]} for code in codes}


def es_error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": EsError, "description": _DESCRIPTIONS[code]} for code in codes}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                operation.get("responses", {}).pop("422", None)
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
