"""Who is calling: the authenticated user, how they proved it, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vigil.auth.privileges import Grants, grants_for


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    roles: tuple[str, ...]
    full_name: str | None = None
    email: str | None = None
    authentication_type: Literal["realm", "api_key"] = "realm"
    api_key_id: str | None = None
    api_key_name: str | None = None

    @property
    def grants(self) -> Grants:
        return grants_for(list(self.roles))

    @property
    def as_kibana_user(self) -> dict[str, str]:
        """The `{id, name}` pair Kibana stores in `createdBy` and `users`."""
        return {"id": self.user_id, "name": self.username}
