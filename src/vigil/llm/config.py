"""Settings shared by every LLM connector (timeouts, retries) and the embedded model's knobs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LlmSettings:
    """How Vigil talks to LLM providers.

    ``max_retries`` counts retries after the first attempt, on 408/409/429/5xx and connection errors.
    Each provider's SDK does the retrying (OpenAI and Anthropic ``max_retries``, botocore's retry
    config, google-genai's ``HttpRetryOptions``): exponential backoff with jitter, honouring
    ``Retry-After`` where the SDK reads it.
    """

    request_timeout_seconds: float = 120.0
    max_retries: int = 3
    connect_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.request_timeout_seconds <= 0:
            raise ValueError("request_timeout_seconds must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.connect_timeout_seconds <= 0:
            raise ValueError("connect_timeout_seconds must be positive")
