"""Connector types: what each one accepts in `config` and `secrets`, as Kibana's stack connectors.

Unknown keys are refused, as Kibana's config schemas refuse them, so a typo in a field name is a
400 naming the field rather than a silently ignored setting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from vigil.errors import BadRequest
from vigil.web.errors import describe_validation_errors

GENAI = ".gen-ai"
BEDROCK = ".bedrock"
GEMINI = ".gemini"
ANTHROPIC = ".anthropic"
VIGIL_LOCAL = ".vigil-local"

GENAI_FEATURES = (
    "generativeAIForSecurity",
    "generativeAIForObservability",
    "generativeAIForSearchPlayground",
)

Text = Annotated[str, StringConstraints(min_length=1)]
ApiUrl = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=r"^https?://[^\s/]+\S*$")]
Temperature = Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0, le=10_000_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenAiConfig(_Strict):
    apiProvider: Literal["OpenAI", "Azure OpenAI", "Other"]
    apiUrl: ApiUrl
    defaultModel: Text | None = None
    headers: dict[str, str] | None = None
    organizationId: Text | None = None
    projectId: Text | None = None
    contextWindowLength: PositiveInt | None = None
    temperature: Temperature | None = None
    verificationMode: Literal["full", "certificate", "none"] | None = None
    enableNativeFunctionCalling: bool | None = None


class GenAiSecrets(_Strict):
    # Optional for "Other": local servers (Ollama, vLLM, llama.cpp) usually need no key.
    apiKey: Text | None = None


class BedrockConfig(_Strict):
    apiUrl: ApiUrl
    defaultModel: Text = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    contextWindowLength: PositiveInt | None = None
    temperature: Temperature | None = None


class BedrockSecrets(_Strict):
    accessKey: Text
    secret: Text


class GeminiConfig(_Strict):
    apiUrl: ApiUrl
    defaultModel: Text = "gemini-2.5-pro"
    gcpRegion: Text
    gcpProjectID: Text
    contextWindowLength: PositiveInt | None = None
    temperature: Temperature | None = None


class GeminiSecrets(_Strict):
    credentialsJson: Text


class AnthropicConfig(_Strict):
    apiUrl: ApiUrl = "https://api.anthropic.com"
    defaultModel: Text | None = None
    contextWindowLength: PositiveInt | None = None
    temperature: Temperature | None = None


class AnthropicSecrets(_Strict):
    apiKey: Text


class VigilLocalConfig(_Strict):
    maxTokens: Annotated[int, Field(gt=0, le=32768)] | None = None
    temperature: Temperature | None = None
    repeatPenalty: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] | None = None
    contextWindow: Annotated[int, Field(gt=0, le=1_000_000)] | None = None
    threads: Annotated[int, Field(gt=0, le=1024)] | None = None


class NoSecrets(_Strict):
    pass


def _genai_rules(config: BaseModel, secrets: BaseModel) -> list[dict[str, Any]]:
    assert isinstance(config, GenAiConfig) and isinstance(secrets, GenAiSecrets)
    if config.apiProvider != "Other" and secrets.apiKey is None:
        return [{"loc": ("secrets", "apiKey"), "type": "missing", "msg": "Required"}]
    return []


@dataclass(frozen=True)
class ConnectorType:
    id: str
    name: str
    config_model: type[BaseModel]
    secrets_model: type[BaseModel]
    minimum_license_required: str = "enterprise"
    supported_feature_ids: tuple[str, ...] = GENAI_FEATURES
    # Checks across config and secrets; returns pydantic-style error dicts (loc without "body").
    rules: Callable[[BaseModel, BaseModel], list[dict[str, Any]]] | None = field(default=None)

    def document(self, *, enabled: bool = True) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "enabled": enabled,
            "enabled_in_config": enabled,
            "enabled_in_license": True,
            "minimum_license_required": self.minimum_license_required,
            "supported_feature_ids": list(self.supported_feature_ids),
            "is_system": False,
        }


CONNECTOR_TYPES: dict[str, ConnectorType] = {
    t.id: t
    for t in (
        ConnectorType(GENAI, "OpenAI", GenAiConfig, GenAiSecrets, rules=_genai_rules),
        ConnectorType(BEDROCK, "Amazon Bedrock", BedrockConfig, BedrockSecrets),
        ConnectorType(GEMINI, "Google Gemini", GeminiConfig, GeminiSecrets),
        ConnectorType(ANTHROPIC, "Anthropic", AnthropicConfig, AnthropicSecrets),
        ConnectorType(
            VIGIL_LOCAL,
            "Vigil local model",
            VigilLocalConfig,
            NoSecrets,
            minimum_license_required="basic",
        ),
    )
}


def get_type(type_id: str) -> ConnectorType:
    connector_type = CONNECTOR_TYPES.get(type_id)
    if connector_type is None:
        raise BadRequest(f'Action type "{type_id}" is not registered.')
    return connector_type


def _check_storable(value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> None:
    """PostgreSQL's text and JSONB refuse NUL characters and non-finite numbers: say so with a 400."""
    if isinstance(value, str):
        if "\x00" in value:
            errors.append({"loc": loc, "type": "value_error", "msg": "Must not contain NUL characters"})
    elif isinstance(value, float):
        if not math.isfinite(value):
            errors.append({"loc": loc, "type": "value_error", "msg": "Must be a finite number"})
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_storable(key, (*loc, key), errors)
            _check_storable(item, (*loc, key), errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, (*loc, index), errors)


def validate_connector(
    type_id: str, config: Mapping[str, Any], secrets: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validated, normalised (config, secrets) for a type; else BadRequest naming every bad field
    as `[request body]: config.apiUrl: Required`. Messages never quote the values sent."""
    connector_type = get_type(type_id)
    errors: list[dict[str, Any]] = []
    parsed: dict[str, BaseModel] = {}
    for part, model, value in (
        ("config", connector_type.config_model, config),
        ("secrets", connector_type.secrets_model, secrets),
    ):
        try:
            parsed[part] = model.model_validate(value)
        except ValidationError as exc:
            errors.extend(
                {"loc": ("body", part, *e["loc"]), "type": e["type"], "msg": e["msg"]}
                for e in exc.errors(include_input=False, include_url=False)
            )
    if not errors and connector_type.rules is not None:
        extra = connector_type.rules(parsed["config"], parsed["secrets"])
        errors.extend({**e, "loc": ("body", *e["loc"])} for e in extra)
    if errors:
        raise BadRequest(describe_validation_errors(errors))
    clean_config = parsed["config"].model_dump(mode="json", exclude_none=True)
    clean_secrets = parsed["secrets"].model_dump(mode="json", exclude_none=True)
    _check_storable(clean_config, ("body", "config"), errors)
    _check_storable(clean_secrets, ("body", "secrets"), errors)
    if errors:
        raise BadRequest(describe_validation_errors(errors))
    return clean_config, clean_secrets
