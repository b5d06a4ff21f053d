"""Citations, as Kibana's content references: tools register what they used, the model cites it
as `{reference(id)}` in its answer, and only what the answer cites is kept on the message."""

from __future__ import annotations

import re
import secrets
from typing import Any

_CITATION = re.compile(r"\{reference\(([A-Za-z0-9_-]+)\)\}")


class ReferenceStore:
    def __init__(self) -> None:
        self._references: dict[str, dict[str, Any]] = {}

    def add(self, reference_type: str, **fields: Any) -> str:
        """Registers a source (e.g. `SecurityAlert`, alertId=...) and returns the id to cite."""
        reference_id = secrets.token_hex(3)
        while reference_id in self._references:
            reference_id = secrets.token_hex(3)
        self._references[reference_id] = {"id": reference_id, "type": reference_type, **fields}
        return reference_id

    def cited_in(self, text: str) -> dict[str, dict[str, Any]]:
        return {rid: self._references[rid] for rid in _CITATION.findall(text) if rid in self._references}
