"""A plain anonymizer: the rules of `vigil.anonymization.engine`, written as directly as possible.

The engine is built for speed (values indexed by first token, policy decisions per object key,
remembered free-text results, texts joined and scanned at once). This module states what it
must compute, with none of that: every field flattened and looked up rule by rule, every known
value tried at every position of a text. `test_fast_path.py` checks that both agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from vigil.anonymization import DetectorSet, FieldRule

SEPARATOR = "\x00"
_TOKEN_CHAR = re.compile(r"[\w-]")
_TOKEN = re.compile(r"[\w-]+")
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def is_token_char(ch: str) -> bool:
    return _TOKEN_CHAR.match(ch) is not None


def fold(value: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in value)


def is_email(value: str) -> bool:
    return _EMAIL_SHAPE.fullmatch(value) is not None


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def rule_for(rules: Mapping[str, FieldRule], field: str) -> FieldRule | None:
    """The exact rule, else the rule of the longest `prefix*` pattern the field starts with."""
    if field in rules:
        return rules[field]
    patterns = [name for name in rules if name.endswith("*") and field.startswith(name[:-1])]
    return rules[max(patterns, key=len)] if patterns else None


def leaves(value: Mapping[Any, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted field, scalar) of a document: objects flattened, lists expanded, objects in lists
    flattened under the list's field."""
    for key, item in value.items():
        yield from _leaves_of(f"{prefix}{key}", item)


def _leaves_of(name: str, item: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(item, Mapping):
        yield from leaves(item, name + ".")
    elif isinstance(item, list | tuple):
        for element in item:
            yield from _leaves_of(name, element)
    else:
        yield name, item


def replace_known(text: str, exact: Mapping[str, str], folded: Mapping[str, str]) -> str:
    """Leftmost match first, then the longest, an exact one before a folded one; a value that
    starts (ends) with a token character must not be glued to one before (after) it."""
    folded_text = fold(text)
    out: list[str] = []
    position = 0
    while position < len(text):
        best: tuple[int, int, str] | None = None  # (length, -rank, placeholder)
        for rank, (haystack, values) in enumerate(((text, exact), (folded_text, folded))):
            for value, placeholder in values.items():
                end = position + len(value)
                if haystack[position:end] != value:
                    continue
                if is_token_char(value[0]) and position > 0 and is_token_char(text[position - 1]):
                    continue
                if is_token_char(value[-1]) and end < len(text) and is_token_char(text[end]):
                    continue
                if best is None or (len(value), -rank) > best[:2]:
                    best = (len(value), -rank, placeholder)
        if best is None:
            out.append(text[position])
            position += 1
        else:
            out.append(best[2])
            position += best[0]
    return "".join(out)


class ReferenceAnonymizer:
    """The same public behaviour as `vigil.anonymization.Anonymizer`, computed plainly."""

    def __init__(
        self,
        replacements: Mapping[str, str] | None = None,
        detectors: DetectorSet | None = None,
        placeholder_factory: Callable[[], str] | None = None,
        *,
        min_free_text_length: int = 3,
    ) -> None:
        assert placeholder_factory is not None, "pass a deterministic factory"
        self.detectors = detectors if detectors is not None else DetectorSet()
        self.min_free_text_length = min_free_text_length
        self.factory = placeholder_factory
        self.to_original: dict[str, str] = {}
        self.to_placeholder: dict[str, str] = {}
        self.email_placeholder: dict[str, str] = {}
        self.new: dict[str, str] = {}
        for placeholder, original in (replacements or {}).items():
            self.register(placeholder, str(original))

    def register(self, placeholder: str, original: str) -> None:
        self.to_original[placeholder] = original
        self.to_placeholder.setdefault(original, placeholder)
        self.to_placeholder[placeholder] = placeholder
        if "@" in original and is_email(original):
            self.email_placeholder.setdefault(fold(original), placeholder)

    def placeholder_for(self, value: str) -> str:
        if value in self.to_placeholder:
            return self.to_placeholder[value]
        if "@" in value and is_email(value) and fold(value) in self.email_placeholder:
            return self.email_placeholder[fold(value)]
        placeholder = self.factory()
        while placeholder in self.to_placeholder or placeholder in self.to_original:
            placeholder = self.factory()
        self.register(placeholder, value)
        self.new[placeholder] = value
        return placeholder

    # -- text ------------------------------------------------------------------------------

    def replace_known(self, text: str) -> str:
        size = self.min_free_text_length
        exact = {v: p for v, p in self.to_placeholder.items() if len(v) >= size and v not in self.to_original}
        folded = {f: p for f, p in self.email_placeholder.items() if len(f) >= size}
        return replace_known(text, exact, folded)

    def anonymize_text(self, text: str) -> str:
        text = self.replace_known(text)
        if self.detectors:
            for _ in range(4):
                replaced = self.apply_detectors(text)
                if replaced == text:
                    break
                text = self.replace_known(replaced)
        return text

    def apply_detectors(self, text: str) -> str:
        """Each finding becomes a placeholder; a finding glued to a placeholder is widened to the
        whole token(s) and stands for their original text; placeholders are left alone."""
        out = ""
        position = 0
        for finding in self.detectors.find(text):
            start, end = finding.start, finding.end
            if start < position:
                continue
            wide_start, wide_end = start, end
            while wide_start > position and is_token_char(text[wide_start - 1]):
                wide_start -= 1
            while wide_end < len(text) and is_token_char(text[wide_end]):
                wide_end += 1
            if any(token in self.to_original for token in _TOKEN.findall(text[wide_start:wide_end])):
                start, end = wide_start, wide_end
            if text[start:end] in self.to_original:
                continue
            out += text[position:start] + self.placeholder_for(self.deanonymize_text(text[start:end]))
            position = end
        return out + text[position:]

    def deanonymize_text(self, text: str) -> str:
        """At each position the longest placeholder starting there, anywhere."""
        out = ""
        position = 0
        while position < len(text):
            found = [p for p in self.to_original if text.startswith(p, position)]
            if found:
                placeholder = max(found, key=len)
                out += self.to_original[placeholder]
                position += len(placeholder)
            else:
                out += text[position]
                position += 1
        return out

    def anonymize_texts(self, texts: list[str]) -> list[str]:
        joined = SEPARATOR.join(texts)
        if not any(SEPARATOR in v for v in self.to_placeholder) and joined.count(SEPARATOR) == len(texts) - 1:
            return self.anonymize_text(joined).split(SEPARATOR)
        for _ in range(4):
            before = len(self.to_original)
            results = [self.anonymize_text(text) for text in texts]
            if len(self.to_original) == before:
                break
        return results

    # -- documents -------------------------------------------------------------------------

    def anonymize_documents(
        self, documents: Iterable[Mapping[str, Any]], rules: Mapping[str, FieldRule]
    ) -> list[dict[str, list[Any]]]:
        """Every leaf in document order: allowed ones kept, anonymized ones as placeholders; then,
        with every anonymized value of the batch known, strings and numbers that are a known
        value become its placeholder and the other strings (each distinct one once, in order)
        are anonymized as free text."""
        outs: list[dict[str, list[Any]]] = []
        pending: list[tuple[list[Any], int]] = []
        for document in documents:
            out: dict[str, list[Any]] = {}
            for field, value in leaves(document):
                rule = rule_for(rules, field)
                if rule is None or not rule.allowed:
                    continue
                bucket = out.setdefault(field, [])
                if value is None:
                    bucket.append(None)
                elif rule.anonymized:
                    text = as_text(value)
                    bucket.append(self.placeholder_for(text) if text else text)
                elif isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
                    pending.append((bucket, len(bucket)))
                    bucket.append(value)
                else:
                    bucket.append(value)
            outs.append(out)
        free: list[tuple[list[Any], int]] = []
        for bucket, index in pending:
            value = bucket[index]
            if not isinstance(value, str):
                bucket[index] = self.to_placeholder.get(as_text(value), value)
            elif value in self.to_placeholder:
                bucket[index] = self.to_placeholder[value]
            elif fold(value) in self.email_placeholder:
                bucket[index] = self.email_placeholder[fold(value)]
            else:
                free.append((bucket, index))
        texts = list(dict.fromkeys(bucket[index] for bucket, index in free))
        results = dict(zip(texts, self.anonymize_texts(texts), strict=True)) if texts else {}
        for bucket, index in free:
            bucket[index] = results[bucket[index]]
        return outs
