"""Vigil's configuration: one typed object, read once from a TOML file and ``VIGIL_*`` variables.

Precedence (highest first): keyword arguments, environment variables, the TOML file named by
``VIGIL_CONFIG_FILE`` (default ``./vigil.toml`` when it exists), then the defaults below.
Every field is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vigil.errors import VigilError

KIBANA_API_VERSION = "2023-10-31"
DetectorName = Literal["email", "ipv4", "ipv6", "mac", "credit_card", "secret"]
DEFAULT_DETECTORS: tuple[DetectorName, ...] = ("secret",)
INTERNAL_API_VERSION = "1"


def _config_file() -> Path | None:
    explicit = os.environ.get("VIGIL_CONFIG_FILE")
    if explicit:
        # A typo must not silently start Vigil on its defaults (say, SQLite instead of PostgreSQL).
        if not Path(explicit).is_file():
            raise ValueError(f"VIGIL_CONFIG_FILE names [{explicit}], which is not a readable file")
        return Path(explicit)
    default = Path("vigil.toml")
    return default if default.exists() else None


class PreconfiguredConnector(BaseModel):
    """A connector defined in configuration (Kibana's `xpack.actions.preconfigured`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Name shown in the connector lists.")
    connector_type_id: str = Field(description="Connector type, e.g. `.gen-ai` (docs/connectors.md).")
    config: dict[str, Any] = Field(default_factory=dict, description="Type-specific configuration.")
    secrets: dict[str, SecretStr] = Field(default_factory=dict, description="Type-specific secrets.")


class EmbeddingModelConfig(BaseModel):
    """An embedding model a knowledge base may use besides the embedded one (docs/knowledge-base.md)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai", "bedrock"] = Field(
        description="`openai`: any OpenAI-compatible /v1/embeddings API; `bedrock`: Amazon Bedrock (Titan, Cohere)."
    )
    model: str = Field(description="Model name, e.g. `text-embedding-3-small` or `amazon.titan-embed-text-v2:0`.")
    url: str | None = Field(None, description="Base URL (`https://api.openai.com/v1`); Bedrock: endpoint override.")
    api_key: SecretStr | None = Field(None, description="Bearer key of an OpenAI-compatible API.")
    region: str | None = Field(None, description="Bedrock region.")
    access_key: SecretStr | None = Field(None, description="Bedrock access key (default: the AWS credential chain).")
    secret_key: SecretStr | None = Field(None, description="Bedrock secret key.")
    dimensions: int | None = Field(None, ge=1, description="Vector size to ask for, when the model supports it.")
    batch_size: int = Field(64, ge=1, le=2048, description="Texts per request.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address `vigil serve` binds to.")
    port: int = Field(5601, ge=1, le=65535, description="Port `vigil serve` listens on (Kibana's).")
    data_dir: Path = Field(Path("data"), description="Where the embedded stores live.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the relational store. Default: SQLite file in data_dir. "
        "postgresql://user@host/db for deployments with several Vigil servers.",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        "FULL", description="SQLite `PRAGMA synchronous` (WAL mode); FULL survives power loss too."
    )
    database_pool_size: int = Field(10, ge=1, description="Connections kept open per server (PostgreSQL).")
    auto_migrate: bool = Field(True, description="Apply pending database migrations at start-up.")

    admin_username: str | None = Field(None, description="First superuser created on an empty store.")
    admin_password: SecretStr | None = Field(None, description="Password of that first superuser.")

    public_base_url: str | None = Field(
        None, description="URL users reach Vigil at, for links in messages. Default http://host:port."
    )
    max_payload_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body on Kibana routes (Kibana's maxPayload)."
    )
    max_bulk_payload_bytes: int = Field(
        104_857_600, ge=1024, description="Largest request body on Elasticsearch-style routes."
    )
    xsrf_disable_protection: bool = Field(
        False, description="Turn off the kbn-xsrf header check (Kibana's server.xsrf.disableProtection)."
    )
    xsrf_allowlist: list[str] = Field(
        default_factory=list, description="Paths exempt from the kbn-xsrf check (server.xsrf.allowlist)."
    )
    auth_cache_ttl_seconds: int = Field(
        1200, ge=0, description="How long a verified password is remembered (0 turns the cache off)."
    )
    auth_principal_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="How long who a verified credential is (user, roles, API key) is reused without a "
        "database read. Changes through this server apply at once; through another server sharing the "
        "database, within this time. 0 reads the database on every request.",
    )
    api_key_default_expiration: str | None = Field(
        None, description="Expiry applied to API keys created without one, e.g. `90d`. None: never."
    )
    audit_log: Path | None = Field(
        None, description="File that receives ECS audit events as JSON lines. Default data_dir/audit.log."
    )
    audit_enabled: bool = Field(True, description="Write audit events.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Server log level.")

    agent_step_limit: int = Field(
        10, ge=1, le=100, description="Most model calls one assistant turn may make (tool rounds included)."
    )
    agent_history_token_budget: int = Field(
        6000,
        ge=256,
        description="Estimated tokens of history sent with a turn; older messages are dropped to fit. "
        "When a connector sets contextWindowLength (or contextWindow for .vigil-local), half of it is "
        "used instead.",
    )
    llm_request_timeout_seconds: float = Field(
        120.0, gt=0, description="How long one LLM request may take before it fails (streamed or not)."
    )
    llm_max_retries: int = Field(
        3, ge=0, le=10, description="Retries of an LLM request on 429, 5xx and connection errors, with backoff."
    )
    anonymization_detectors: list[DetectorName] = Field(
        default_factory=lambda: list(DEFAULT_DETECTORS),
        description="Detectors for sensitive values no field names, applied to every text sent to a provider. "
        "Secrets (API keys, tokens, passwords) by default; add email, ipv4, ipv6, mac, credit_card.",
    )
    anonymization_min_free_text_length: int = Field(
        3,
        ge=1,
        description="Anonymized values shorter than this are replaced only as whole field values, never inside "
        "free text (a one-letter host name must not replace every matching letter).",
    )
    chat_generate_titles: bool = Field(
        True, description='Ask the model for a title when a conversation is still called "New chat".'
    )
    chat_config_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="How long a chat turn's configuration reads (connector, system prompt, anonymization "
        "rules, required knowledge-base entries, index-entry tools) are reused. Changes made through this "
        "server apply at once; changes made through another server sharing the database within this "
        "time. 0 reads them on every turn.",
    )
    encryption_key: SecretStr | None = Field(
        None,
        description="Key (32 characters or more) that encrypts connector secrets at rest, like Kibana's "
        "xpack.encryptedSavedObjects.encryptionKey. Default with SQLite: generated into "
        "data_dir/encryption.key. Required with PostgreSQL: every server must share it.",
    )
    preconfigured_connectors: dict[str, PreconfiguredConnector] = Field(
        default_factory=dict,
        description="Connectors defined in configuration, by id (Kibana's xpack.actions.preconfigured).",
    )
    local_model_enabled: bool = Field(
        True, description="Offer the preconfigured `vigil-local` connector (Vigil's embedded model)."
    )
    assistant_alerts_to_analyze: int = Field(
        100,
        ge=1,
        le=500,
        description="Alerts the alert tool hands the model when neither the request (`size`) nor the "
        "conversation sets it (Kibana's default 100; at most 500, Kibana's maximum).",
    )
    esql_tool_max_attempts: int = Field(
        3, ge=1, le=10, description="Queries the ES|QL and chart tools try per call (errors go back to the model)."
    )
    esql_tool_max_rows: int = Field(
        20, ge=1, le=1000, description="Rows of a query result the model sees (the chart keeps every row)."
    )
    knowledge_base_auto_setup: bool = Field(
        True,
        description="Set up the knowledge base at start-up: load (or update) the built-in reference content and "
        "embed what is not embedded yet, in the background.",
    )
    knowledge_base_embedding_model: str = Field(
        "vigil-minilm",
        description="Embedding model of a space's knowledge base until its setup names another (`modelId`): "
        "`vigil-minilm` (embedded all-MiniLM-L6-v2) or a name from knowledge_base_embedding_models.",
    )
    knowledge_base_embedding_models: dict[str, EmbeddingModelConfig] = Field(
        default_factory=dict, description="Further embedding models, by name (OpenAI-compatible or Bedrock)."
    )
    knowledge_base_docs_dir: Path | None = Field(
        None,
        description="Markdown files loaded as the built-in `vigil-docs` collection. Default: the docs/ folder of "
        "the Vigil checkout, when there is one.",
    )
    knowledge_base_passages: int = Field(
        5, ge=1, le=50, description="Passages a knowledge base retrieval returns to the assistant."
    )
    knowledge_base_required_max_chars: int = Field(
        8000,
        ge=0,
        description="Most characters of `required` entries added to every conversation's context; the newest "
        "entries win when they do not all fit.",
    )
    knowledge_base_context_passages: int = Field(
        3,
        ge=0,
        le=20,
        description="For models without native tool calls (the embedded model), passages retrieved for the "
        "question and put in the context up front, and listed as the answer's sources. 0 turns this off.",
    )
    knowledge_base_context_max_chars: int = Field(
        1200,
        ge=100,
        description="Characters of those passages, shared between them (small models have small context windows).",
    )
    data_store_path: Path | None = Field(
        None, description="DuckDB file holding ingested documents (the data plane). Default data_dir/data.duckdb."
    )
    data_retention: str | None = Field(
        None,
        description="Drop ingested documents whose @timestamp day is older than this, e.g. `30d`. None: keep all.",
    )
    data_retention_check_interval_seconds: int = Field(
        3600, ge=1, description="How often the data retention is enforced (also once at start-up)."
    )
    esql_query_time_limit_seconds: float = Field(
        60.0,
        gt=0,
        description="An ES|QL query on the embedded store running longer than this is cancelled "
        "(task_cancelled_exception), so one runaway query cannot hold the store.",
    )
    data_source: Literal["embedded", "elasticsearch"] = Field(
        "embedded",
        description="Where `/_query` and the assistant's data tools read data: `embedded` (the DuckDB store) or "
        "`elasticsearch` (the cluster at elasticsearch_url; docs/datasource.md).",
    )
    elasticsearch_url: str | None = Field(
        None, description="URL of the Elasticsearch cluster, e.g. `https://es.example.com:9200` (no credentials in it)."
    )
    elasticsearch_username: str | None = Field(None, description="User Vigil authenticates as to the cluster.")
    elasticsearch_password: SecretStr | None = Field(None, description="Password of elasticsearch_username.")
    elasticsearch_api_key: SecretStr | None = Field(
        None, description="API key (the `encoded` form) Vigil authenticates with, instead of a user and password."
    )
    elasticsearch_verify_certs: bool = Field(True, description="Verify the cluster's TLS certificate.")
    elasticsearch_ca_certs: Path | None = Field(
        None, description="PEM file of the CA that signed the cluster's certificate."
    )
    elasticsearch_request_timeout_seconds: float = Field(
        30.0, gt=0, description="How long one request to the cluster may take before it fails (504)."
    )
    elasticsearch_metadata_cache_seconds: float = Field(
        60.0, ge=0, description="How long the fields of an index read from the cluster are reused (0: never)."
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        # Operators write libpq-style URLs; SQLAlchemy needs the driver named to pick psycopg 3.
        if value and value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("data_retention")
    @classmethod
    def _check_retention(cls, value: str | None) -> str | None:
        if value is not None:
            from vigil.timeunits import parse_duration

            try:
                parse_duration(value)
            except VigilError as exc:
                raise ValueError(exc.message.replace("[expiration]", "[data_retention]")) from exc
        return value

    @field_validator("api_key_default_expiration")
    @classmethod
    def _check_expiration(cls, value: str | None) -> str | None:
        if value is not None:
            from vigil.timeunits import parse_duration

            try:
                parse_duration(value)
            except VigilError as exc:
                raise ValueError(exc.message) from exc
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vigil.db').resolve()}"

    @property
    def resolved_data_store_path(self) -> Path:
        return self.data_store_path or self.data_dir / "data.duckdb"

    @property
    def resolved_audit_log(self) -> Path:
        return self.audit_log or self.data_dir / "audit.log"

    @property
    def resolved_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)
