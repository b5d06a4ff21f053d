"""How an alert or event attached to a message (`data`) is shown to the model.

Kibana renders attached data as `field,value` lines inside a CONTEXT block before the user's
words; Vigil does the same, so prompts written for Kibana read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def flatten(document: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested ECS objects as dotted field names; lists stay values (multi-valued fields)."""
    for key, value in document.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            yield from flatten(value, name)
        else:
            yield name, value


def _render_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_render_value(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def render_data(data: Mapping[str, Any]) -> str:
    return "\n".join(f"{field},{_render_value(value)}" for field, value in sorted(flatten(data)))


def with_context(content: str, data: Mapping[str, Any] | None) -> str:
    if not data:
        return content
    return f'CONTEXT:\n"""\n{render_data(data)}\n"""\n\n{content}'
