"""Elasticsearch's `filter_path` response filtering (Beats send `filter_path=errors,items.*.error`)."""

from __future__ import annotations

import re
from typing import Any


def _compile(pattern: str) -> list[re.Pattern[str] | None]:
    # One matcher per path segment; None stands for `**` (any number of segments).
    return [
        None if part == "**" else re.compile("^" + ".*".join(re.escape(p) for p in part.split("*")) + "$")
        for part in pattern.split(".")
    ]


def _filter(value: Any, patterns: list[list[re.Pattern[str] | None]]) -> tuple[bool, Any]:
    """(kept, filtered value): a pattern fully consumed keeps the whole value."""
    if any(not pattern for pattern in patterns):
        return True, value
    if isinstance(value, list):
        kept = [item for ok, item in (_filter(item, patterns) for item in value) if ok]
        return bool(kept), kept
    if not isinstance(value, dict):
        return False, None
    result: dict[str, Any] = {}
    for key, child in value.items():
        remaining: list[list[re.Pattern[str] | None]] = []
        for pattern in patterns:
            head = pattern[0]
            if head is None:
                remaining.append(pattern)  # ** may swallow this key
                if len(pattern) > 1 and pattern[1] is not None and pattern[1].match(key):
                    remaining.append(pattern[2:])
            elif head.match(key):
                remaining.append(pattern[1:])
        if remaining:
            ok, filtered = _filter(child, remaining)
            if ok:
                result[key] = filtered
    return bool(result), result


def apply_filter_path(body: Any, filter_path: str | None) -> Any:
    if not filter_path:
        return body
    includes = [_compile(p.strip()) for p in filter_path.split(",") if p.strip() and not p.strip().startswith("-")]
    if not includes:
        return body
    _, filtered = _filter(body, includes)
    return filtered if filtered is not None else {}
