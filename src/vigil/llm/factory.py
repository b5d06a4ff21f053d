"""Connector → pydantic-ai ``Model``. The only place that knows Kibana's connector type ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic_ai.models import Model

from vigil.errors import BadRequest
from vigil.llm.config import LlmSettings

Builder = Callable[..., Model]

SUPPORTED_TYPES = (".gen-ai", ".bedrock", ".gemini", ".anthropic", ".vigil-local")


def _builder(type_id: str) -> Builder:
    # Imported lazily: each vendor SDK costs import time, and a deployment uses one or two of them.
    if type_id == ".gen-ai":
        from vigil.llm.providers.openai import build as build_openai

        return build_openai
    if type_id == ".bedrock":
        from vigil.llm.providers.bedrock import build as build_bedrock

        return build_bedrock
    if type_id == ".gemini":
        from vigil.llm.providers.google import build as build_google

        return build_google
    if type_id == ".anthropic":
        from vigil.llm.providers.anthropic import build as build_anthropic

        return build_anthropic
    if type_id == ".vigil-local":
        from vigil.llm.local import build as build_local

        return build_local
    raise BadRequest(f"connector type [{type_id}] is not supported; supported types: {', '.join(SUPPORTED_TYPES)}")


def build_model(
    type_id: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    *,
    model_override: str | None = None,
    settings: LlmSettings | None = None,
) -> Model:
    """Build the pydantic-ai model a connector describes.

    ``config`` and ``secrets`` are the connector's Kibana-shaped ``config`` and ``secrets`` objects;
    ``model_override`` replaces ``config.defaultModel`` (a conversation's ``apiConfig.model``).
    Raises ``vigil.errors.BadRequest`` for an unknown type or an invalid/missing setting or secret.
    """
    builder = _builder(type_id)
    if not isinstance(config, Mapping) or not isinstance(secrets, Mapping):
        raise BadRequest("connector config and secrets must be objects")
    return builder(config, secrets, model_override=model_override, settings=settings or LlmSettings())
