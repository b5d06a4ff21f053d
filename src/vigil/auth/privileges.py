"""Roles and what they grant, modelled on Kibana's feature privileges.

Kibana grants the AI Assistant as all/read/none with a *customize* sub-privilege (anonymization
and knowledge base settings), and Actions & Connectors as all/read. Elasticsearch-side rights
(manage users and keys, read or write data indices) complete the picture for Vigil's own
Elasticsearch-style routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    NONE = 0
    READ = 1
    ALL = 2


@dataclass(frozen=True)
class Grants:
    assistant: Level = Level.NONE
    assistant_customize: bool = False
    connectors: Level = Level.NONE
    manage_security: bool = False
    data_read: bool = False
    data_write: bool = False

    def union(self, other: Grants) -> Grants:
        return Grants(
            assistant=max(self.assistant, other.assistant),
            assistant_customize=self.assistant_customize or other.assistant_customize,
            connectors=max(self.connectors, other.connectors),
            manage_security=self.manage_security or other.manage_security,
            data_read=self.data_read or other.data_read,
            data_write=self.data_write or other.data_write,
        )


BUILTIN_ROLES: dict[str, Grants] = {
    "superuser": Grants(
        assistant=Level.ALL,
        assistant_customize=True,
        connectors=Level.ALL,
        manage_security=True,
        data_read=True,
        data_write=True,
    ),
    # Kibana's documented minimum for using the assistant: AI Assistant all, connectors read.
    "editor": Grants(assistant=Level.ALL, connectors=Level.READ, data_read=True),
    "viewer": Grants(assistant=Level.READ, connectors=Level.READ, data_read=True),
    # For shippers (Beats, Logstash, scripts) that only send events through `_bulk`.
    "ingest": Grants(data_write=True),
}


def unknown_roles(roles: list[str]) -> list[str]:
    return [role for role in roles if role not in BUILTIN_ROLES]


def grants_for(roles: list[str]) -> Grants:
    grants = Grants()
    for role in roles:
        grants = grants.union(BUILTIN_ROLES.get(role, Grants()))
    return grants
