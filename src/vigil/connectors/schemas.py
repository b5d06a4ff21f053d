"""Wire shapes of Kibana's actions (connectors) API, snake_case as Kibana's public API is."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# NUL characters are refused: PostgreSQL cannot store them.
NonEmptyString = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"^[^\x00]*\S[^\x00]*$")]
ConnectorId = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ConnectorCreate(WireModel):
    name: NonEmptyString
    connector_type_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)


class ConnectorUpdate(WireModel):
    name: NonEmptyString
    config: dict[str, Any] = Field(default_factory=dict)
    # Replaces the stored secrets as a whole, as in Kibana: send them all again.
    secrets: dict[str, Any] = Field(default_factory=dict)


class ConnectorResponse(BaseModel):
    id: str
    name: str
    connector_type_id: str
    # Absent for preconfigured connectors, as in Kibana: their configuration is the operator's.
    config: dict[str, Any] | None = None
    is_preconfigured: bool
    is_deprecated: bool
    is_missing_secrets: bool
    is_system: bool


class ConnectorListItem(ConnectorResponse):
    referenced_by_count: int


class ConnectorTypeResponse(BaseModel):
    id: str
    name: str
    enabled: bool
    enabled_in_config: bool
    enabled_in_license: bool
    minimum_license_required: str
    supported_feature_ids: list[str]
    is_system: bool


class ExecuteRequest(WireModel):
    params: dict[str, Any]


class ExecuteResponse(BaseModel):
    connector_id: str
    status: Literal["ok", "error"]
    data: Any = None
    message: str | None = None
    service_message: str | None = None
    retry: bool | None = None
