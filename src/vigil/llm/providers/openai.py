"""Kibana's ``.gen-ai`` connector: OpenAI, Azure OpenAI, and any OpenAI-compatible server ("Other")."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx2
from openai import AsyncOpenAI, AsyncStream
from pydantic_ai import RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import (
    CompletedStreamedResponse,
    Model,
    ModelRequestParameters,
    StreamedResponse,
    _customize_tool_def,  # the base class's own per-tool step
    check_allow_model_requests,
)
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIChatModelSettings
from pydantic_ai.profiles import DEFAULT_THINKING_TAGS, JsonSchemaTransformer
from pydantic_ai.providers.azure import AzureProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from vigil.errors import BadRequest
from vigil.llm.config import LlmSettings
from vigil.llm.providers._common import extra_headers, model_name, optional_str, required_str
from vigil.llm.providers.openai_client import PlainJsonAzureOpenAI, PlainJsonOpenAI, raw_streams
from vigil.llm.providers.openai_stream import ChatCompletionsStream, httpx2_chunks
from vigil.llm.providers.openai_transport import ChatStreamTransport, OpenedStream

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


# Settings whose effect shows in the stream itself (log probabilities, raw annotations, cumulative
# usage, unmapped fields): with any of them, streams are read by pydantic-ai's own reader.
_SDK_READER_SETTINGS = frozenset(
    {
        "openai_logprobs",
        "openai_top_logprobs",
        "openai_include_raw_annotations",
        "openai_continuous_usage_stats",
        "openai_include_unmapped_response_data",
    }
)


# A tool's parameters schema as the provider's profile reshapes it, by (transformer, schema
# object, strict). Tool schemas are generated once per tool (vigil.agent.runner) and never changed
# in place, so the same object always reshapes the same way; reshaping 7 tools cost ~0.5 ms a turn.
_Reshaped = tuple[dict[str, Any], dict[str, Any], bool | None]  # (source schema, result, strict)
_RESHAPED: dict[tuple[type[JsonSchemaTransformer], int, bool | None], _Reshaped] = {}
_RESHAPED_MAX = 1024
_reshaped_lock = threading.Lock()


def _customized_tool(transformer: type[JsonSchemaTransformer], tool_def: ToolDefinition) -> ToolDefinition:
    schema = tool_def.parameters_json_schema
    key = (transformer, id(schema), tool_def.strict)
    hit = _RESHAPED.get(key)
    if hit is None or hit[0] is not schema:  # `is`: an id is only unique while its object lives
        done = _customize_tool_def(transformer, tool_def)
        hit = (schema, done.parameters_json_schema, done.strict)
        with _reshaped_lock:
            if len(_RESHAPED) >= _RESHAPED_MAX:
                _RESHAPED.clear()
            _RESHAPED[key] = hit
    return replace(tool_def, parameters_json_schema=hit[1], strict=hit[2])


class ChatCompletionsModel(OpenAIChatModel):
    """pydantic-ai's Chat Completions model, with a leaner way to receive streams.

    Requests are built as pydantic-ai builds them (same body; the SDK's URL, headers, retries
    with backoff, error types, Azure's content filter). A streamed answer is then received over
    aiohttp (`ChatStreamTransport`) and parsed by `ChatCompletionsStream`, instead of the SDK's
    httpx2 stream of per-chunk objects.
    """

    def __init__(
        self,
        model_name: str,
        *,
        provider: OpenAIProvider | AzureProvider,
        transport: ChatStreamTransport | None = None,
    ) -> None:
        super().__init__(model_name, provider=provider)
        self.transport = transport

    def customize_request_parameters(self, model_request_parameters: ModelRequestParameters) -> ModelRequestParameters:
        """pydantic-ai's, with each tool's reshaped schema reused from turn to turn."""
        params = model_request_parameters
        transformer = self.profile.get("json_schema_transformer")
        if transformer is None or params.output_tools or params.output_object is not None:
            return super().customize_request_parameters(params)
        return replace(params, function_tools=[_customized_tool(transformer, t) for t in params.function_tools])

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        if _SDK_READER_SETTINGS.intersection(model_settings or {}):
            async with super().request_stream(messages, model_settings, model_request_parameters, run_context) as s:
                yield s
            return
        check_allow_model_requests()
        model_settings, model_request_parameters = self.prepare_request(model_settings, model_request_parameters)
        settings = cast(OpenAIChatModelSettings, model_settings or {})
        with raw_streams(self.transport):
            opened = await self._completions_create(messages, True, settings, model_request_parameters)
        if isinstance(opened, ModelResponse):  # Azure's content filter refused the prompt
            yield CompletedStreamedResponse(
                opened, model_request_parameters=model_request_parameters, replay_events=True
            )
            return
        if isinstance(opened, OpenedStream):
            body, close, request = opened.chunks(), opened.aclose, opened.request
        else:
            # A body the SDK sent itself (files, images): its stream object is never iterated,
            # its HTTP response is read directly.
            assert isinstance(opened, AsyncStream)
            body, close, request = httpx2_chunks(opened.response), opened.response.aclose, opened.response.request
        profile = self.profile
        stream = ChatCompletionsStream(
            model_request_parameters=model_request_parameters,
            _model_name=self.model_name,
            _provider_name=self._provider.name,
            _provider_url=self._provider.base_url,
            _body=body,
            _close=close,
            _error_request=request,
            _model_id_namespace=self._provider.model_id_namespace,
            _thinking_tags=profile.get("thinking_tags", DEFAULT_THINKING_TAGS),
            _ignore_leading_whitespace=profile.get("ignore_streamed_leading_whitespace", False),
            _thinking_field=profile.get("openai_chat_thinking_field", None),
        )
        stream.canonical_system = self._canonical_system_stamp
        try:
            yield stream
        finally:
            await close()


def _timeout(settings: LlmSettings) -> httpx2.Timeout:
    return httpx2.Timeout(settings.request_timeout_seconds, connect=settings.connect_timeout_seconds)


def _transport(client: AsyncOpenAI, settings: LlmSettings) -> ChatStreamTransport:
    # The same limits as the SDK client's: connect, and the longest wait for the next bytes.
    return ChatStreamTransport(client, settings.connect_timeout_seconds, settings.request_timeout_seconds)


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
        azure_client = PlainJsonAzureOpenAI(
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
        return ChatCompletionsModel(
            name, provider=AzureProvider(openai_client=azure_client), transport=_transport(azure_client, settings)
        )
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
    client = PlainJsonOpenAI(
        base_url=base_url_from_api_url(api_url),
        api_key=api_key,
        max_retries=settings.max_retries,
        timeout=_timeout(settings),
        default_headers=headers or None,
    )
    name = model_name(config, model_override, connector=CONNECTOR)
    return ChatCompletionsModel(
        name, provider=OpenAIProvider(openai_client=client), transport=_transport(client, settings)
    )
