"""Errors are types: the core raises these, the web layer maps them once to Kibana's envelope."""

from __future__ import annotations

from http import HTTPStatus


class VigilError(Exception):
    """Base of every error Vigil reports to a caller; ``status_code`` picks the HTTP status."""

    status_code: int = 500
    # Elasticsearch-style routes report a type such as `security_exception`.
    es_type: str = "exception"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error(self) -> str:
        return HTTPStatus(self.status_code).phrase


class BadRequest(VigilError):
    status_code = 400
    es_type = "illegal_argument_exception"


class Unauthorized(VigilError):
    status_code = 401
    es_type = "security_exception"


class Forbidden(VigilError):
    status_code = 403
    es_type = "security_exception"


class NotFound(VigilError):
    status_code = 404
    es_type = "resource_not_found_exception"


class Conflict(VigilError):
    status_code = 409
    es_type = "version_conflict_engine_exception"


class PayloadTooLarge(VigilError):
    status_code = 413
    es_type = "content_too_long_exception"


class Unprocessable(VigilError):
    status_code = 422
    es_type = "illegal_argument_exception"


class ServiceUnavailable(VigilError):
    status_code = 503
    es_type = "status_exception"


class UpstreamError(VigilError):
    """A dependency Vigil called (an LLM provider, an external cluster) failed."""

    es_type = "status_exception"

    def __init__(self, message: str, status_code: int = 502) -> None:
        super().__init__(message)
        self.status_code = status_code
