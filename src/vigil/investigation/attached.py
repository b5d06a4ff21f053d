"""An alert attached to a chat message (`data`, as Kibana's UI and SOAR clients send it) becomes
a `SecurityAlert` citation, so the answer can point back at the alert it is about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.agent.references import ReferenceStore


def attached_alert_id(data: Mapping[str, Any] | None) -> str | None:
    """The alert's id: `_id`, or `kibana.alert.uuid` (dotted, as Swimlane sends it, or nested)."""
    if not data:
        return None
    nested = data.get("kibana")
    candidates = (
        data.get("_id"),
        data.get("kibana.alert.uuid"),
        nested.get("alert", {}).get("uuid") if isinstance(nested, Mapping) else None,
    )
    for value in candidates:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str) and value:
            return value
    return None


def cite_attached_alert(data: Mapping[str, Any] | None, references: ReferenceStore) -> str:
    """The sentence that tells the model how to cite the attached alert ("" when none is)."""
    alert_id = attached_alert_id(data)
    if alert_id is None:
        return ""
    reference = references.add("SecurityAlert", alertId=alert_id)
    return f"\n\n(Cite the attached alert as {{reference({reference})}}.)"
