"""KQL errors. Both kinds are the caller's fault, so the web layer maps them to HTTP 400."""

from __future__ import annotations


class KqlError(ValueError):
    """Base of every KQL error; ``message`` is safe to show to API users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KqlSyntaxError(KqlError):
    """The query text is not valid KQL.

    ``position`` is the 0-based character offset where parsing failed; ``reason`` is the
    message without the "KQL syntax error at column N" prefix.
    """

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"KQL syntax error at column {position}: {reason}")
        self.reason = reason
        self.position = position


class KqlFieldError(KqlError):
    """The query is valid KQL but cannot run against the given fields (unknown field, bad value...)."""
