"""Kibana's ``.bedrock`` connector: Amazon Bedrock's Converse API through boto3."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from pydantic_ai.models import Model
from pydantic_ai.models.bedrock import BedrockConverseModel
from pydantic_ai.providers.bedrock import BedrockProvider

from vigil.errors import BadRequest
from vigil.llm.config import LlmSettings
from vigil.llm.providers._common import model_name, optional_str, required_str

CONNECTOR = ".bedrock"
_HOST = re.compile(r"^bedrock-runtime(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$")


def region_from_api_url(api_url: str) -> str:
    """``https://bedrock-runtime.us-east-1.amazonaws.com`` → ``us-east-1``."""
    host = urlsplit(api_url).hostname or ""
    match = _HOST.match(host)
    if match is None:
        raise BadRequest(
            "config [apiUrl] of a .bedrock connector must look like "
            f"https://bedrock-runtime.REGION.amazonaws.com (or set config [region]), got [{api_url}]"
        )
    return match["region"]


def client_config(settings: LlmSettings) -> Config:
    # "standard" mode: exponential backoff with jitter on throttling, 5xx and transient network errors.
    return Config(
        read_timeout=settings.request_timeout_seconds,
        connect_timeout=settings.connect_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": settings.max_retries + 1},
    )


def build(
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    *,
    model_override: str | None,
    settings: LlmSettings,
) -> Model:
    api_url = required_str(config, "apiUrl", what="config", connector=CONNECTOR)
    region = optional_str(config, "region") or region_from_api_url(api_url)
    access_key = required_str(secrets, "accessKey", what="secret", connector=CONNECTOR)
    secret_key = required_str(secrets, "secret", what="secret", connector=CONNECTOR)
    client = boto3.client(
        "bedrock-runtime",
        region_name=region,
        endpoint_url=api_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=client_config(settings),
    )
    name = model_name(config, model_override, connector=CONNECTOR)
    return BedrockConverseModel(name, provider=BedrockProvider(bedrock_client=client))
