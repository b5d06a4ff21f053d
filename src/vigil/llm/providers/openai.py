"""Kibana's ``.gen-ai`` connector: OpenAI, Azure OpenAI, and any OpenAI-compatible server ("Other")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from openai import AsyncAzureOpenAI, AsyncOpenAI
from pydantic_ai.models import Model
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.azure import AzureProvider
from pydantic_ai.providers.openai import OpenAIProvider

from vigil.errors import BadRequest
from vigil.llm.config import LlmSettings
from vigil.llm.providers._common import extra_headers, model_name, optional_str, required_str

CONNECTOR = ".gen-ai"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1/chat/completions"
AZURE_DEFAULT_API_VERSION = "2024-02-01"
# What OpenAI-compatible servers without authentication accept; the SDK insists on some key.
NO_API_KEY = "no-api-key"

_CHAT_COMPLETIONS = re.compile(r"/chat/completions/?$")
_AZURE_PATH = re.compile(r"^(?P<prefix>.*?)/openai/deployments/(?P<deployment>[^/]+)(?:/chat/completions)?/?$")


def base_url_from_api_url(api_url: str) -> str:
    """Kibana stores the full chat-completions URL; the SDK wants the base it appends paths to."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"config [apiUrl] must be an http(s) URL, got [{api_url}]")
    path = _CHAT_COMPLETIONS.sub("", parts.path).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass(frozen=True)
class AzureTarget:
    endpoint: str
    deployment: str
    api_version: str


def parse_azure_url(api_url: str) -> AzureTarget:
    """``https://{res}.openai.azure.com/openai/deployments/{dep}/chat/completions?api-version=V``."""
    parts = urlsplit(api_url)
    match = _AZURE_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or match is None:
        raise BadRequest(
            "config [apiUrl] of an Azure OpenAI connector must look like "
            "https://{resource}.openai.azure.com/openai/deployments/{deployment}/chat/completions"
            f"?api-version=..., got [{api_url}]"
        )
    api_version = (parse_qs(parts.query).get("api-version") or [AZURE_DEFAULT_API_VERSION])[0]
    endpoint = f"{parts.scheme}://{parts.netloc}{match['prefix']}"
    return AzureTarget(endpoint=endpoint, deployment=match["deployment"], api_version=api_version)


def _timeout(settings: LlmSettings) -> httpx2.Timeout:
    return httpx2.Timeout(settings.request_timeout_seconds, connect=settings.connect_timeout_seconds)


def build(
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    *,
    model_override: str | None,
    settings: LlmSettings,
) -> Model:
    provider = optional_str(config, "apiProvider") or "OpenAI"
    headers = extra_headers(config)
    api_key = optional_str(secrets, "apiKey")
    if provider == "Azure OpenAI":
        api_url = required_str(config, "apiUrl", what="config", connector=f"{CONNECTOR} (Azure OpenAI)")
        target = parse_azure_url(api_url)
        if api_key is None:
            raise BadRequest(f"secret [apiKey] is required for a {CONNECTOR} (Azure OpenAI) connector")
        azure_client = AsyncAzureOpenAI(
            azure_endpoint=target.endpoint,
            azure_deployment=target.deployment,
            api_version=target.api_version,
            api_key=api_key,
            max_retries=settings.max_retries,
            timeout=_timeout(settings),
            default_headers=headers or None,
        )
        # The deployment in the URL picks the model; the body's `model` is informational on Azure.
        name = (model_override or "").strip() or optional_str(config, "defaultModel") or target.deployment
        return OpenAIChatModel(name, provider=AzureProvider(openai_client=azure_client))
    if provider not in ("OpenAI", "Other"):
        raise BadRequest(
            f"config [apiProvider] of a {CONNECTOR} connector must be OpenAI, Azure OpenAI or Other, got [{provider}]"
        )
    configured_url = optional_str(config, "apiUrl")
    if configured_url is None and provider == "Other":
        raise BadRequest(f"config [apiUrl] is required for a {CONNECTOR} (Other) connector")
    api_url = configured_url or OPENAI_DEFAULT_URL
    if api_key is None:
        if provider == "OpenAI":
            raise BadRequest(f"secret [apiKey] is required for a {CONNECTOR} (OpenAI) connector")
        api_key = NO_API_KEY
    client = AsyncOpenAI(
        base_url=base_url_from_api_url(api_url),
        api_key=api_key,
        max_retries=settings.max_retries,
        timeout=_timeout(settings),
        default_headers=headers or None,
    )
    name = model_name(config, model_override, connector=CONNECTOR)
    return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))
