"""LLM access: connector config → pydantic-ai ``Model`` (vendors, the embedded model, prompted tools)."""

from vigil.llm.config import LlmSettings
from vigil.llm.factory import SUPPORTED_TYPES, build_model

__all__ = ["SUPPORTED_TYPES", "LlmSettings", "build_model"]
