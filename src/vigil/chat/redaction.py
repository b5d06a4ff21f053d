"""Anonymization applied to everything a chat turn sends to the provider.

Kibana anonymizes the fields of attached alerts; Vigil also passes every text it sends (system
prompt, history, the user's words, tool arguments and results) through the same replacements, so
a value anonymized anywhere in a conversation is anonymized everywhere.

Two passes: first every attached document of the turn's history is anonymized, so all the
sensitive values are known; only then are texts rendered, so an earlier message that mentions a
host anonymized later is covered too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.agent.transcript import TranscriptMessage
from vigil.anonymization import Anonymizer, DetectorSet, FieldPolicy, FieldRule
from vigil.settings import Settings


@dataclass(frozen=True)
class SourceMessage:
    """A message as stored or received: raw text, raw attached data, and its tool rounds."""

    role: str
    content: str
    data: Mapping[str, Any] | None = None
    fields_to_anonymize: Sequence[str] | None = None
    rounds: tuple[dict[str, Any], ...] = ()
    is_error: bool = False


def policy_from_rules(rules: Iterable[tuple[str, bool, bool]]) -> FieldPolicy:
    return FieldPolicy.from_rules(FieldRule(field, allowed, anonymized) for field, allowed, anonymized in rules)


def new_anonymizer(settings: Settings, replacements: Mapping[str, str] | None) -> Anonymizer:
    return Anonymizer(
        replacements or {},
        DetectorSet(settings.anonymization_detectors),
        min_free_text_length=settings.anonymization_min_free_text_length,
    )


def _render_values(values: list[Any]) -> str:
    # Attached data is untrusted: one line per field whatever it contains, and no value may
    # close the CONTEXT block (three double quotes) and go on as if it were the user's words.
    return ",".join(str(value).replace("\n", "\\n").replace('"""', "'''") for value in values)


class TurnRedactor:
    """Renders a turn's messages for the model, anonymized with one conversation's map."""

    def __init__(self, anonymizer: Anonymizer, policy: FieldPolicy) -> None:
        self.anonymizer = anonymizer
        self.policy = policy
        self._contexts: dict[int, str] = {}

    def register_documents(self, messages: Sequence[SourceMessage]) -> None:
        for message in messages:
            if message.data and id(message) not in self._contexts:
                policy = self.policy.with_overrides(message.fields_to_anonymize or ())
                document = self.anonymizer.anonymize_document(message.data, policy)
                lines = (f"{field},{_render_values(values)}" for field, values in sorted(document.items()))
                self._contexts[id(message)] = "\n".join(lines)

    def text(self, text: str) -> str:
        return self.anonymizer.anonymize_text(text)

    def anonymize_documents(
        self, documents: Sequence[Mapping[str, Any]], policy: FieldPolicy | None = None
    ) -> list[dict[str, list[Any]]]:
        """Documents a tool returns (alerts, query rows), with the space's field rules unless
        the tool derived a stricter policy for them."""
        return self.anonymizer.anonymize_documents(documents, policy or self.policy)

    def value(self, value: Any) -> Any:
        """Strings inside JSON-like values (tool arguments) anonymized, structure kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def restore(self, value: Any) -> Any:
        """The reverse, for the arguments the model passes to Vigil's own tools."""
        if isinstance(value, str):
            return self.anonymizer.deanonymize_text(value)
        if isinstance(value, list):
            return [self.restore(item) for item in value]
        if isinstance(value, dict):
            return {key: self.restore(item) for key, item in value.items()}
        return value

    def render(self, message: SourceMessage) -> str:
        """Kibana's shape: attached data as a CONTEXT block of `field,value` lines, then the text."""
        self.register_documents([message])
        text = self.text(message.content)
        context = self._contexts.get(id(message))
        if context is None:
            return text
        return f'CONTEXT:\n"""\n{context}\n"""\n\n{text}'

    def transcript(self, messages: Sequence[SourceMessage]) -> list[TranscriptMessage]:
        self.register_documents(messages)
        return [
            TranscriptMessage(
                role=message.role,
                content=self.render(message),
                rounds=tuple(self._round(r) for r in message.rounds),
                is_error=message.is_error,
            )
            for message in messages
        ]

    def _round(self, round_: dict[str, Any]) -> dict[str, Any]:
        return {
            "text": self.text(round_.get("text") or ""),
            "calls": [
                {**call, "arguments": self.value(call.get("arguments") or {})} for call in round_.get("calls", [])
            ],
            "results": [
                {**result, "content": self.text(result.get("content") or "")} for result in round_.get("results", [])
            ],
        }
