"""Turns provider and loop failures into messages a person at 3 a.m. can act on."""

from __future__ import annotations

import httpx
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)

from vigil.errors import VigilError


def describe_failure(exc: BaseException, step_limit: int) -> tuple[str, int]:
    """(message, HTTP status) for a failed turn. Never includes secrets: provider messages are
    summarised by type, not echoed, since some providers repeat request headers in errors."""
    if isinstance(exc, VigilError):
        return exc.message, exc.status_code
    if isinstance(exc, UsageLimitExceeded):
        return f"The assistant stopped after {step_limit} model calls without a final answer.", 502
    if isinstance(exc, ModelRateLimitError):
        return "The LLM provider kept rate-limiting requests (HTTP 429); try again shortly.", 429
    if isinstance(exc, ModelTimeoutError):
        return "The LLM provider did not answer in time.", 504
    if isinstance(exc, ModelAuthenticationError):
        return "The LLM provider refused the connector's credentials; check its API key.", 502
    if isinstance(exc, ModelContextWindowExceededError):
        return "The conversation is too long for this model's context window.", 400
    if isinstance(exc, ModelServerError):
        return "The LLM provider failed (server error) after retries.", 502
    if isinstance(exc, ModelConnectionError):
        return "Could not reach the LLM provider.", 502
    if isinstance(exc, ModelAPIError):
        if isinstance(exc.__cause__, ValueError):  # JSONDecodeError and friends: a garbled stream
            return "The LLM provider sent a response Vigil could not read (malformed or cut short).", 502
        return f"The LLM provider returned an error: {type(exc).__name__}.", 502
    if isinstance(exc, UnexpectedModelBehavior):
        return "The LLM provider sent a response Vigil could not read (malformed or cut short).", 502
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "The LLM provider did not answer in time.", 504
    if isinstance(exc, httpx.TransportError):
        return "The connection to the LLM provider failed.", 502
    return "The assistant failed unexpectedly; the error was logged.", 500
