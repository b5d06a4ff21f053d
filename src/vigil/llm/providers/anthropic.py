"""The ``.anthropic`` connector: Anthropic's Messages API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2
from anthropic import AsyncAnthropic
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from vigil.errors import BadRequest
from vigil.llm.config import LlmSettings
from vigil.llm.providers._common import extra_headers, model_name, optional_str, required_str

CONNECTOR = ".anthropic"
DEFAULT_URL = "https://api.anthropic.com/v1/messages"
_MESSAGES = re.compile(r"(/v1)?/messages/?$")


def base_url_from_api_url(api_url: str) -> str:
    """The connector may store the full ``/v1/messages`` URL; the SDK appends that path itself."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"config [apiUrl] must be an http(s) URL, got [{api_url}]")
    path = _MESSAGES.sub("", parts.path).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def build(
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    *,
    model_override: str | None,
    settings: LlmSettings,
) -> Model:
    api_key = required_str(secrets, "apiKey", what="secret", connector=CONNECTOR)
    client = AsyncAnthropic(
        api_key=api_key,
        base_url=base_url_from_api_url(optional_str(config, "apiUrl") or DEFAULT_URL),
        max_retries=settings.max_retries,
        timeout=httpx2.Timeout(settings.request_timeout_seconds, connect=settings.connect_timeout_seconds),
        default_headers=extra_headers(config) or None,
    )
    name = model_name(config, model_override, connector=CONNECTOR)
    return AnthropicModel(name, provider=AnthropicProvider(anthropic_client=client))
