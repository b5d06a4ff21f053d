"""Kibana's ``.gemini`` connector: Gemini on Vertex AI, authenticated with a service-account JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from google.genai import Client
from google.genai.types import HttpOptions, HttpRetryOptions
from google.oauth2 import service_account
from pydantic_ai.models import Model
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.providers.google import GoogleProvider

from vigil.errors import BadRequest
from vigil.llm.config import LlmSettings
from vigil.llm.providers._common import extra_headers, model_name, required_str

CONNECTOR = ".gemini"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def credentials_from_json(raw: str) -> service_account.Credentials:
    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"secret [credentialsJson] of a {CONNECTOR} connector is not JSON") from exc
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise BadRequest(
            f"secret [credentialsJson] of a {CONNECTOR} connector must be a GCP service-account key "
            '({"type": "service_account", ...})'
        )
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))  # type: ignore[no-any-return]
    except (ValueError, KeyError) as exc:
        raise BadRequest(f"secret [credentialsJson] of a {CONNECTOR} connector is invalid: {exc}") from exc


def http_options(config: Mapping[str, Any], settings: LlmSettings) -> HttpOptions:
    api_url = config.get("apiUrl")
    base_url = None
    if isinstance(api_url, str) and api_url.strip():
        parts = urlsplit(api_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRequest(f"config [apiUrl] must be an http(s) URL, got [{api_url}]")
        base_url = f"{parts.scheme}://{parts.netloc}/"
    return HttpOptions(
        base_url=base_url,
        timeout=int(settings.request_timeout_seconds * 1000),  # milliseconds
        headers=extra_headers(config) or None,
        # google-genai retries 408/429/5xx with exponential backoff and jitter; attempts include the first.
        retry_options=HttpRetryOptions(attempts=settings.max_retries + 1),
    )


def build(
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    *,
    model_override: str | None,
    settings: LlmSettings,
) -> Model:
    credentials = credentials_from_json(required_str(secrets, "credentialsJson", what="secret", connector=CONNECTOR))
    project = required_str(config, "gcpProjectID", what="config", connector=CONNECTOR)
    location = required_str(config, "gcpRegion", what="config", connector=CONNECTOR)
    client = Client(
        vertexai=True,
        credentials=credentials,
        project=project,
        location=location,
        http_options=http_options(config, settings),
    )
    name = model_name(config, model_override, connector=CONNECTOR)
    return GoogleModel(name, provider=GoogleProvider(client=client))
