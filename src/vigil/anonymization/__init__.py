"""Anonymization: sensitive values never reach the LLM provider.

- `policy`: which fields are sent (`allowed`) and which as placeholders (`anonymized`).
- `engine`: `Anonymizer`, the stable placeholder map of a conversation, applied to documents
  and to every text sent to the provider, and reversed on what comes back.
- `detectors`: optional detectors for values no field names (secrets on by default).

A pure library: no web, no database.
"""

from vigil.anonymization.detectors import ALL_DETECTORS, DEFAULT_DETECTORS, DetectorSet, Finding
from vigil.anonymization.engine import Anonymizer, PlaceholderFactory, uuid_placeholder
from vigil.anonymization.policy import DEFAULT_FIELD_RULES, FieldPolicy, FieldRule

__all__ = [
    "ALL_DETECTORS",
    "DEFAULT_DETECTORS",
    "DEFAULT_FIELD_RULES",
    "Anonymizer",
    "DetectorSet",
    "FieldPolicy",
    "FieldRule",
    "Finding",
    "PlaceholderFactory",
    "uuid_placeholder",
]
