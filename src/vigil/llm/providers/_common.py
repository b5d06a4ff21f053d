"""Helpers the provider modules share: reading connector-shaped config and secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.errors import BadRequest


def optional_str(source: Mapping[str, Any], key: str) -> str | None:
    value = source.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"[{key}] must be a string")
    value = value.strip()
    return value or None


def required_str(source: Mapping[str, Any], key: str, *, what: str, connector: str) -> str:
    value = optional_str(source, key)
    if value is None:
        raise BadRequest(f"{what} [{key}] is required for a {connector} connector")
    return value


def model_name(config: Mapping[str, Any], model_override: str | None, *, connector: str) -> str:
    name = (model_override or "").strip() or optional_str(config, "defaultModel")
    if not name:
        raise BadRequest(f"no model: set config [defaultModel] on the {connector} connector or pass a model")
    return name


def extra_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """Kibana's ``headers`` config: a flat object of extra HTTP headers sent with every request."""
    headers = config.get("headers")
    if headers is None:
        return {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise BadRequest("config [headers] must be an object of string values")
    return dict(headers)
