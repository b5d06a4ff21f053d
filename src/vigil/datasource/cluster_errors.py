"""Failures of an Elasticsearch cluster, as the Vigil errors its callers already handle.

The cluster's own status, type and message are kept: an ES|QL `verification_exception` is the
same 400 with the same text as Elasticsearch gave it. Two cases are Vigil's configuration rather
than the caller's request, and say so: the cluster refusing Vigil's credentials (401) is a 502,
since passing the 401 on would tell the caller its own credentials were wrong; an unreachable or
silent cluster is a 503 or 504.
"""

from __future__ import annotations

import re
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError, TransportError
from elasticsearch import ApiError, UnsupportedProductError

from vigil.dataplane.errors import IndexNotFoundError
from vigil.errors import UpstreamError, VigilError
from vigil.esql.errors import EsqlExecutionError, EsqlParsingError, EsqlVerificationError

_PARSING_POSITION = re.compile(r"line (\d+):(\d+): (.*)", re.DOTALL)
_NO_SUCH_INDEX = re.compile(r"no such index \[(.*)\]")


class ClusterError(UpstreamError):
    """The Elasticsearch data source answered with an error (or did not answer)."""

    def __init__(self, status_code: int, es_type: str, message: str) -> None:
        super().__init__(message, status_code)
        self.es_type = es_type


def _error_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]  # type: ignore[no-any-return]
    return {}


def describe(exc: ApiError) -> tuple[int, str, str]:
    """(status, Elasticsearch error type, reason) of an error answer."""
    error = _error_object(exc.body)
    es_type = str(error.get("type") or "exception")
    reason = error.get("reason")
    if not isinstance(reason, str) or not reason:
        # Not Elasticsearch's error body (a proxy's page, a plain-text error).
        reason = exc.body if isinstance(exc.body, str) and exc.body else str(exc.message)
    return exc.meta.status, es_type, reason


def cluster_error(exc: ApiError | TransportError, where: str) -> VigilError:
    """The Vigil error for a failed request to the cluster at `where` (its URL, no credentials)."""
    if isinstance(exc, UnsupportedProductError):
        return ClusterError(502, "status_exception", f"the server at [{where}] is not Elasticsearch: {exc.message}")
    if isinstance(exc, ApiError):
        status, es_type, reason = describe(exc)
        if status == 401:
            return ClusterError(
                502,
                "security_exception",
                f"the Elasticsearch data source at [{where}] rejected Vigil's credentials: {reason} "
                "(check VIGIL_ELASTICSEARCH_USERNAME and VIGIL_ELASTICSEARCH_PASSWORD, or VIGIL_ELASTICSEARCH_API_KEY)",
            )
        if status == 404 and es_type == "index_not_found_exception":
            index = _error_object(exc.body).get("index")
            named = _NO_SUCH_INDEX.fullmatch(reason)
            if not isinstance(index, str) and named:
                index = named.group(1)
            if isinstance(index, str):
                return IndexNotFoundError(index)
        return ClusterError(status, es_type, reason)
    if isinstance(exc, TlsError):
        return ClusterError(
            502,
            "status_exception",
            f"TLS with the Elasticsearch data source at [{where}] failed: {exc} "
            "(check VIGIL_ELASTICSEARCH_CA_CERTS and VIGIL_ELASTICSEARCH_VERIFY_CERTS)",
        )
    if isinstance(exc, ConnectionTimeout):
        return ClusterError(504, "timeout_exception", f"the Elasticsearch data source at [{where}] did not answer")
    if isinstance(exc, TransportConnectionError):
        return ClusterError(503, "status_exception", f"cannot reach the Elasticsearch data source at [{where}]: {exc}")
    return ClusterError(502, "status_exception", f"the Elasticsearch data source at [{where}] failed: {exc}")


def esql_error(exc: ApiError | TransportError, where: str) -> Exception:
    """As `cluster_error`, but a 400 to an ES|QL query becomes the ES|QL error the embedded engine
    raises for the same query, so callers handle both sources alike."""
    if isinstance(exc, ApiError) and not isinstance(exc, UnsupportedProductError) and exc.meta.status == 400:
        _, es_type, reason = describe(exc)
        if es_type == "parsing_exception":
            position = _PARSING_POSITION.fullmatch(reason)
            if position:
                return EsqlParsingError(position.group(3), int(position.group(1)), int(position.group(2)))
        elif es_type == "verification_exception":
            return EsqlVerificationError(reason)
        return EsqlExecutionError(reason, es_type)
    return cluster_error(exc, where)
