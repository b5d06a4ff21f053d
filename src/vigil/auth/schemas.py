"""Request bodies of the Elasticsearch-style security API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PutUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = None
    roles: list[str]
    full_name: str | None = None
    email: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str


class CreateApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    expiration: str | None = None
    role_descriptors: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


class InvalidateApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] | None = None
    id: str | None = None
    name: str | None = None
    owner: bool = False
    username: str | None = None
    realm_name: str | None = None
