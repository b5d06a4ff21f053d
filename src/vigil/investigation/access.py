"""Which indices the assistant may read for a caller in a space.

Reading data needs `Grants.data_read`. With it, a caller may read the ordinary indices and data
streams, and, of the hidden (dot-prefixed) indices, only the alert indices of the space the
request came in: `.alerts-security.alerts-{space}` and `.alerts-observability.*.alerts-{space}`,
as Kibana scopes alerts by space. Every other hidden index (another space's alerts, Vigil's
own) is out of reach, whatever a query or a tool argument names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vigil.auth.principal import Principal
from vigil.datasource import DataIndex, DataSource
from vigil.errors import Forbidden


def security_alerts_index(space_id: str) -> str:
    return f".alerts-security.alerts-{space_id}"


def observability_alerts_pattern(space_id: str) -> str:
    return f".alerts-observability.*.alerts-{space_id}"


def _observability_alerts(space_id: str) -> re.Pattern[str]:
    # The rule type part never contains '-', so another space's suffix cannot match here.
    return re.compile(r"\.alerts-observability\.[a-z0-9_.]+\.alerts-" + re.escape(space_id))


def is_alerts_index(name: str, space_id: str) -> bool:
    return name == security_alerts_index(space_id) or _observability_alerts(space_id).fullmatch(name) is not None


def may_read(name: str, space_id: str) -> bool:
    return not name.startswith(".") or is_alerts_index(name, space_id)


def reads_data(principal: Principal) -> bool:
    """Whether the data tools are offered to the caller at all."""
    return principal.grants.data_read


def require_data_read(principal: Principal) -> None:
    if not principal.grants.data_read:
        raise Forbidden(
            f"action [indices:data/read] is unauthorized for user [{principal.username}] "
            f"with roles [{','.join(principal.roles)}]"
        )


def check_indices(principal: Principal, space_id: str, indices: Iterable[DataIndex]) -> None:
    """Raises Forbidden naming the indices the caller may not read in this space."""
    require_data_read(principal)
    denied = sorted({info.name for info in indices if not may_read(info.name, space_id)})
    if denied:
        raise Forbidden(
            f"action [indices:data/read/esql] is unauthorized for user [{principal.username}] "
            f"on indices [{', '.join(denied)}]: only the alert indices of space [{space_id}] and "
            "indices that do not start with '.' can be read"
        )


def readable_indices(source: DataSource, space_id: str) -> list[DataIndex]:
    """Every index the assistant may read in the space, ordinary ones first."""
    expression = f"*,{security_alerts_index(space_id)}*,{observability_alerts_pattern(space_id)}"
    return [info for info in source.resolve(expression) if may_read(info.name, space_id)]
