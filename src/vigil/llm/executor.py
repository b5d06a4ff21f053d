"""`POST /api/actions/connector/{id}/_execute` for LLM connectors, with Kibana's sub-actions.

- `invokeAI`: `{messages: [{role, content}], model?, temperature?, stop?}` → `{message, usage}`
  (what Kibana's assistant and other plugins call).
- `run` / `test`: `{body: "<an OpenAI chat request as a JSON string>"}` → an OpenAI-shaped chat
  completion, whichever provider is behind the connector.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_ai.direct import model_request
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, SystemPromptPart, TextPart, UserPromptPart
from pydantic_ai.settings import ModelSettings

from vigil.agent.errors import describe_failure
from vigil.connectors.execute import error_result
from vigil.connectors.service import ConnectorRuntime
from vigil.llm.cache import ModelCache

LLM_TYPES = frozenset({".gen-ai", ".bedrock", ".gemini", ".anthropic", ".vigil-local"})
SUB_ACTIONS = ("invokeAI", "run", "test")


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str


class _InvokeParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messages: list[_Message] = Field(min_length=1)
    model: str | None = None
    temperature: float | None = None
    stop: list[str] | str | None = None
    maxTokens: int | None = None


def _as_model_messages(messages: list[_Message]) -> list[ModelMessage]:
    result: list[ModelMessage] = []
    for message in messages:
        if message.role == "system":
            result.append(ModelRequest(parts=[SystemPromptPart(content=message.content)]))
        elif message.role == "assistant":
            result.append(ModelResponse(parts=[TextPart(content=message.content)]))
        else:
            result.append(ModelRequest(parts=[UserPromptPart(content=message.content)]))
    return result


def _settings(params: _InvokeParams) -> ModelSettings:
    settings: ModelSettings = {}
    if params.temperature is not None:
        settings["temperature"] = params.temperature
    if params.maxTokens is not None:
        settings["max_tokens"] = params.maxTokens
    if params.stop:
        settings["stop_sequences"] = [params.stop] if isinstance(params.stop, str) else params.stop
    return settings


class LlmConnectorExecutor:
    def __init__(self, models: ModelCache) -> None:
        self.models = models

    async def execute(self, runtime: ConnectorRuntime, params: dict[str, Any]) -> dict[str, Any]:
        sub_action = params.get("subAction")
        if runtime.type_id not in LLM_TYPES:
            return error_result(runtime, f"connector type [{runtime.type_id}] cannot be run by Vigil")
        if sub_action not in SUB_ACTIONS:
            return error_result(
                runtime,
                "an error occurred while running the action",
                f'Sub action "{sub_action}" is not registered. Connector id: {runtime.id}. '
                f"Connector name: {runtime.name}. Connector type: {runtime.type_id}",
            )
        sub_params = params.get("subActionParams") or {}
        try:
            invoke = (
                _InvokeParams.model_validate(sub_params)
                if sub_action == "invokeAI"
                else _InvokeParams.model_validate(json.loads(sub_params.get("body") or "{}"))
            )
        except (ValidationError, json.JSONDecodeError, AttributeError, TypeError) as exc:
            return error_result(runtime, f"error validating action params: {type(exc).__name__}: {exc}"[:500])
        model = self.models.get(runtime.id, runtime.type_id, runtime.config, runtime.secrets, invoke.model)
        try:
            response = await model_request(model, _as_model_messages(invoke.messages), model_settings=_settings(invoke))
        except Exception as exc:
            message, _ = describe_failure(exc, step_limit=1)
            return error_result(runtime, "an error occurred while running the action", message)
        text = "".join(part.content for part in response.parts if isinstance(part, TextPart))
        usage = {
            "prompt_tokens": response.usage.input_tokens,
            "completion_tokens": response.usage.output_tokens,
            "total_tokens": response.usage.input_tokens + response.usage.output_tokens,
        }
        if sub_action == "invokeAI":
            data: dict[str, Any] = {"message": text, "usage": usage}
        else:
            data = {
                "object": "chat.completion",
                "model": response.model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage,
            }
        return {"connector_id": runtime.id, "status": "ok", "data": data}
