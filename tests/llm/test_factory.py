"""Each connector type builds the right pydantic-ai model from Kibana-shaped config and secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.bedrock import BedrockConverseModel
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.models.openai import OpenAIChatModel

from vigil.errors import BadRequest
from vigil.llm import LlmSettings, build_model
from vigil.llm.local import LocalModel
from vigil.llm.providers.bedrock import region_from_api_url
from vigil.llm.providers.openai import base_url_from_api_url, parse_azure_url

SETTINGS = LlmSettings(request_timeout_seconds=42, max_retries=5)


def test_unknown_type_is_bad_request() -> None:
    with pytest.raises(BadRequest, match="not supported"):
        build_model(".slack", {}, {}, settings=SETTINGS)


def test_settings_validate() -> None:
    assert LlmSettings().request_timeout_seconds == 120
    assert LlmSettings().max_retries == 3
    with pytest.raises(ValueError):
        LlmSettings(max_retries=-1)
    with pytest.raises(ValueError):
        LlmSettings(request_timeout_seconds=0)


# -- .gen-ai ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_url", "base"),
    [
        ("https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/chat/completions/", "https://api.openai.com/v1"),
        ("http://localhost:11434/v1/chat/completions", "http://localhost:11434/v1"),
        ("http://vllm:8000/v1", "http://vllm:8000/v1"),
        ("http://lmstudio:1234/v1/", "http://lmstudio:1234/v1"),
    ],
)
def test_chat_completions_suffix_is_stripped(api_url: str, base: str) -> None:
    assert base_url_from_api_url(api_url) == base


def test_openai_connector() -> None:
    model = build_model(
        ".gen-ai",
        {"apiProvider": "OpenAI", "apiUrl": "https://api.openai.com/v1/chat/completions", "defaultModel": "gpt-4o"},
        {"apiKey": "sk-test"},
        settings=SETTINGS,
    )
    assert isinstance(model, OpenAIChatModel)
    assert model.model_name == "gpt-4o"
    client: Any = model.client
    assert str(client.base_url) == "https://api.openai.com/v1/"
    assert client.api_key == "sk-test"
    assert client.max_retries == 5
    assert client.timeout.read == 42


def test_openai_connector_defaults_url_and_takes_model_override() -> None:
    model = build_model(
        ".gen-ai", {"defaultModel": "gpt-4o"}, {"apiKey": "k"}, model_override="gpt-4.1-mini", settings=SETTINGS
    )
    assert model.model_name == "gpt-4.1-mini"
    assert str(model.client.base_url) == "https://api.openai.com/v1/"  # type: ignore[attr-defined]


def test_openai_connector_needs_api_key_and_model() -> None:
    with pytest.raises(BadRequest, match="apiKey"):
        build_model(".gen-ai", {"apiProvider": "OpenAI", "defaultModel": "gpt-4o"}, {}, settings=SETTINGS)
    with pytest.raises(BadRequest, match="defaultModel"):
        build_model(".gen-ai", {"apiProvider": "OpenAI"}, {"apiKey": "k"}, settings=SETTINGS)


def test_unknown_api_provider() -> None:
    with pytest.raises(BadRequest, match="apiProvider"):
        build_model(".gen-ai", {"apiProvider": "Mistral", "defaultModel": "m"}, {"apiKey": "k"})


def test_other_connector_without_api_key_and_with_headers() -> None:
    model = build_model(
        ".gen-ai",
        {
            "apiProvider": "Other",
            "apiUrl": "http://127.0.0.1:11434/v1/chat/completions",
            "defaultModel": "llama3.2",
            "headers": {"X-Tenant": "soc"},
        },
        {},
        settings=SETTINGS,
    )
    client: Any = model.client
    assert str(client.base_url) == "http://127.0.0.1:11434/v1/"
    assert client.default_headers["X-Tenant"] == "soc"
    with pytest.raises(BadRequest, match="apiUrl"):
        build_model(".gen-ai", {"apiProvider": "Other", "defaultModel": "m"}, {})
    with pytest.raises(BadRequest, match="apiUrl"):
        build_model(".gen-ai", {"apiProvider": "Other", "apiUrl": "ftp://x/y", "defaultModel": "m"}, {})
    with pytest.raises(BadRequest, match="headers"):
        build_model(
            ".gen-ai", {"apiProvider": "Other", "apiUrl": "http://x/v1", "defaultModel": "m", "headers": [1]}, {}
        )


def test_azure_url_parsing() -> None:
    target = parse_azure_url(
        "https://my-res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-06-01"
    )
    assert target.endpoint == "https://my-res.openai.azure.com"
    assert target.deployment == "gpt-4o-prod"
    assert target.api_version == "2024-06-01"
    assert parse_azure_url("https://r.openai.azure.com/openai/deployments/d").api_version == "2024-02-01"
    with pytest.raises(BadRequest, match="Azure"):
        parse_azure_url("https://r.openai.azure.com/v1/chat/completions")


def test_azure_connector() -> None:
    model = build_model(
        ".gen-ai",
        {
            "apiProvider": "Azure OpenAI",
            "apiUrl": "https://my-res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions"
            "?api-version=2024-02-01",
        },
        {"apiKey": "azure-key"},
        settings=SETTINGS,
    )
    assert isinstance(model, OpenAIChatModel)
    assert model.model_name == "gpt-4o-prod"
    client: Any = model.client
    assert str(client.base_url) == "https://my-res.openai.azure.com/openai/deployments/gpt-4o-prod/"
    assert client._custom_query == {"api-version": "2024-02-01"}
    assert client.max_retries == 5
    with pytest.raises(BadRequest, match="apiKey"):
        build_model(
            ".gen-ai",
            {"apiProvider": "Azure OpenAI", "apiUrl": "https://r.openai.azure.com/openai/deployments/d"},
            {},
        )


# -- .bedrock --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_url", "region"),
    [
        ("https://bedrock-runtime.us-east-1.amazonaws.com", "us-east-1"),
        ("https://bedrock-runtime.eu-central-1.amazonaws.com/", "eu-central-1"),
        ("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("https://bedrock-runtime.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ],
)
def test_bedrock_region_from_url(api_url: str, region: str) -> None:
    assert region_from_api_url(api_url) == region


def test_bedrock_connector() -> None:
    model = build_model(
        ".bedrock",
        {
            "apiUrl": "https://bedrock-runtime.eu-west-3.amazonaws.com",
            "defaultModel": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        },
        {"accessKey": "AKIAEXAMPLE", "secret": "s3cr3t"},
        settings=SETTINGS,
    )
    assert isinstance(model, BedrockConverseModel)
    client: Any = model.client
    assert client.meta.region_name == "eu-west-3"
    assert client.meta.endpoint_url == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert client.meta.config.read_timeout == 42
    assert client._request_signer._credentials.access_key == "AKIAEXAMPLE"


def test_bedrock_errors() -> None:
    config = {"apiUrl": "https://bedrock-runtime.us-east-1.amazonaws.com", "defaultModel": "m"}
    with pytest.raises(BadRequest, match="secret"):
        build_model(".bedrock", config, {"accessKey": "a"})
    with pytest.raises(BadRequest, match="accessKey"):
        build_model(".bedrock", config, {"secret": "s"})
    with pytest.raises(BadRequest, match="apiUrl"):
        build_model(
            ".bedrock", {"apiUrl": "https://example.com", "defaultModel": "m"}, {"accessKey": "a", "secret": "s"}
        )


# -- .gemini ---------------------------------------------------------------------------------------


def _service_account_json() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "soc-project",
            "private_key_id": "abc",
            "private_key": pem,
            "client_email": "vigil@soc-project.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def test_gemini_connector() -> None:
    model = build_model(
        ".gemini",
        {
            "apiUrl": "https://us-central1-aiplatform.googleapis.com",
            "gcpRegion": "us-central1",
            "gcpProjectID": "soc-project",
            "defaultModel": "gemini-2.5-pro",
        },
        {"credentialsJson": _service_account_json()},
        settings=SETTINGS,
    )
    assert isinstance(model, GoogleModel)
    assert model.model_name == "gemini-2.5-pro"
    api_client: Any = model.client._api_client
    assert api_client.vertexai is True
    assert api_client.project == "soc-project"
    assert api_client.location == "us-central1"
    assert api_client._credentials.service_account_email == "vigil@soc-project.iam.gserviceaccount.com"
    assert api_client._http_options.timeout == 42_000
    assert api_client._http_options.retry_options.attempts == 6


def test_gemini_errors() -> None:
    config = {"gcpRegion": "us-central1", "gcpProjectID": "p", "defaultModel": "gemini-2.5-pro"}
    with pytest.raises(BadRequest, match="credentialsJson"):
        build_model(".gemini", config, {})
    with pytest.raises(BadRequest, match="not JSON"):
        build_model(".gemini", config, {"credentialsJson": "{nope"})
    with pytest.raises(BadRequest, match="service-account"):
        build_model(".gemini", config, {"credentialsJson": json.dumps({"type": "authorized_user"})})
    with pytest.raises(BadRequest, match="gcpProjectID"):
        build_model(".gemini", {"gcpRegion": "r", "defaultModel": "m"}, {"credentialsJson": _service_account_json()})


# -- .anthropic ------------------------------------------------------------------------------------


def test_anthropic_connector() -> None:
    model = build_model(
        ".anthropic",
        {"apiUrl": "https://api.anthropic.com/v1/messages", "defaultModel": "claude-sonnet-4-5"},
        {"apiKey": "sk-ant-test"},
        settings=SETTINGS,
    )
    assert isinstance(model, AnthropicModel)
    client: Any = model.client
    assert str(client.base_url) == "https://api.anthropic.com"
    assert client.api_key == "sk-ant-test"
    assert client.max_retries == 5
    with pytest.raises(BadRequest, match="apiKey"):
        build_model(".anthropic", {"defaultModel": "claude"}, {})


# -- .vigil-local ----------------------------------------------------------------------------------


def test_local_connector_options() -> None:
    model = build_model(".vigil-local", {"contextWindow": 1024, "maxTokens": 32, "repeatPenalty": 1.2}, {})
    assert isinstance(model, LocalModel)
    assert model.options.n_ctx == 1024
    assert model.options.max_tokens == 32
    assert model.options.repeat_penalty == 1.2
    assert model.options.temperature == 0.2
    with pytest.raises(BadRequest, match="contextWindow"):
        build_model(".vigil-local", {"contextWindow": "big"}, {})
    with pytest.raises(BadRequest, match="maxTokens"):
        build_model(".vigil-local", {"maxTokens": 0}, {})
