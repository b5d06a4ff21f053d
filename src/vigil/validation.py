"""Input checks shared by request schemas."""

from __future__ import annotations

from typing import Any


def find_nul(value: Any, path: str = "") -> str | None:
    """The path of the first string holding a NUL character, or None.

    PostgreSQL cannot store U+0000 in text or JSONB; refusing it at the door keeps both backends
    answering alike (a 400, not a 500 on one of them)."""
    if isinstance(value, str):
        return path or "value" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_nul(key, path) if isinstance(key, str) and "\x00" in key else None
            found = found or find_nul(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def reject_nul(value: Any) -> Any:
    """For `model_validator(mode="before")`: raises naming the field that holds a NUL."""
    found = find_nul(value)
    if found:
        raise ValueError(f"{found}: NUL characters (\\u0000) are not allowed")
    return value
