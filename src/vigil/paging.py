"""What every Kibana `_find` route shares: the result window, `fields=` parsing and selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vigil.errors import BadRequest

# Elasticsearch's index.max_result_window, which Kibana's `_find` routes page within.
MAX_RESULT_WINDOW = 10_000


def check_result_window(page: int, per_page: int) -> None:
    if page * per_page > MAX_RESULT_WINDOW:
        raise BadRequest(
            f"Result window is too large, page * per_page must be less than or equal to: [{MAX_RESULT_WINDOW}]"
        )


def split_fields(fields: Sequence[str] | None) -> list[str] | None:
    """`fields=a,b` and `fields=a&fields=b` both work, as Kibana's query parsing allows."""
    if not fields:
        return None
    return [name.strip() for value in fields for name in value.split(",") if name.strip()]


def select_fields(
    document: Mapping[str, Any], fields: Sequence[str], aliases: Mapping[str, str], always: Sequence[str]
) -> dict[str, Any]:
    """Keeps the requested fields (stored snake_case names or API camelCase ones) and those the
    response schema requires whatever `fields=` says."""
    wanted = {aliases.get(name, name) for name in fields} | set(always)
    return {key: value for key, value in document.items() if key in wanted}
