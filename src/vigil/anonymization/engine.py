"""The anonymizer: sensitive values are replaced by placeholders before anything reaches the
LLM provider, and put back in what comes out of it.

Kibana's model (`kbn-elastic-assistant-common/impl/data_anonymization`): each field of an attached
alert is allowed or not, anonymized or not; an anonymized value is sent as a UUID v4
placeholder; the map placeholder → original is stored on the conversation as `replacements`,
and a value seen again gets the placeholder it already has. Vigil keeps that and goes further:
*every* text sent to the provider passes through the same map, so a value anonymized anywhere
(a host name in `host.name`) is anonymized everywhere (the same name inside `message`,
`process.command_line`, or the user's question). Optional detectors (`detectors.py`) catch
secrets and other values that no field names.

## Where a value is replaced in free text

A known value is replaced only where it is a whole *token*: not preceded or followed by a token
character. Token characters are Unicode word characters (`\\w`: letters, digits, `_`) and `-`.
Host names, user names and identifiers are made of these (`web-3` is not `web-30` nor
`web-3-backup`, host `a` is not inside `cat`). Everything else separates tokens, in particular
`.`, `@`, `/`, `\\`, `:`: a host name inside an FQDN (`web-3.corp.local`), a user inside a path
(`/home/alice`, `C:\\Users\\alice`) or an e-mail address (`alice@corp.com`), an IP before a port
(`10.0.0.1:443`) or at the end of a sentence is the same sensitive value and is replaced.

- Scanning left to right, the leftmost value wins, then the longest at that place (`srv-1.corp`
  over `srv-1`), an exact one before an e-mail address matched case-insensitively.
- A value that starts or ends with a separator (`/srv`, `::1`) needs no boundary on that side.
- Values shorter than `min_free_text_length` (default 3) are **not** replaced inside free text:
  a one-letter host name would otherwise turn every matching letter of the conversation into a
  placeholder. They are still replaced when they are a whole field value. `short_values` lists
  their placeholders so the caller can tell the user.
- Matching is case-sensitive, except for e-mail addresses (compared case-insensitively; the
  placeholder maps back to the spelling seen first).
- Placeholders are never anonymized again: they must be single tokens (UUIDs are) and never
  equal a known value, so no known value can match inside one; detectors skip findings that
  touch a placeholder (or widen them to cover it and map the widened text to its original).

## Speed

Free text is matched by `KnownValues` (see `known_values.py`): values indexed by their first
token, no regular expression to compile, so a conversation's stored map is ready in a few
milliseconds and a new value costs a dict insert. Documents are walked along the policy's
`FieldNode`s (one dict lookup per key, denied objects skipped whole); the free-text fields of a
batch of documents are joined and scanned once; and the result for each free-text value is
remembered while the set of known values does not change (alerts repeat most of their strings:
rule names, executables, paths), so a warm conversation mostly scans the strings it has not
seen. `tests/anonymization/reference.py` states all of this plainly; property tests check that
both compute the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from vigil.anonymization.detectors import DetectorSet
from vigil.anonymization.known_values import KnownValues, fold, is_token_char
from vigil.anonymization.placeholders import uuid_placeholder
from vigil.anonymization.policy import FieldNode, FieldPolicy

__all__ = ["Anonymizer", "PlaceholderFactory", "uuid_placeholder"]

PlaceholderFactory = Callable[[], str]

_TOKEN = re.compile(r"[\w-]+")
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Joins the free-text values of a batch so they are scanned in one pass (see `_anonymize_texts`).
_SEPARATOR = "\x00"
# Free-text results remembered per anonymizer (see `_remember`): only values short enough that
# repeating is likely, and at most this many (a few MB at worst; forgotten all at once).
_REMEMBER_LIMIT = 10_000
_REMEMBER_MAX_LENGTH = 512

# Exact types of the values a walk treats as scalars without asking anything else.
_SCALARS = frozenset({str, int, float, bool, type(None)})
# A free-text slot of a document being anonymized: (the field's value list, index, raw value).
_Slot = tuple[list[Any], int, Any]


def _is_email(value: str) -> bool:
    return "@" in value and _EMAIL_SHAPE.fullmatch(value) is not None


def _trie_pattern(values: Iterable[str]) -> str | None:
    """One regular expression matching any of the values anywhere, longest first: how
    `deanonymize_text` finds placeholders that are not single tokens (a stored map from
    elsewhere; Vigil's and Kibana's are UUIDs)."""
    root: dict[Any, Any] = {}
    for value in values:
        if not value:
            continue
        node = root
        for ch in value:
            node = node.setdefault(ch, {})
        node[None] = True
    if not root:
        return None

    def emit(node: dict[Any, Any]) -> str:
        alternatives: list[str] = []
        for key in sorted(k for k in node if k is not None):
            literal = re.escape(key)
            child = node[key]
            while len(child) == 1 and None not in child:  # compress single-child chains
                ((next_key, child),) = child.items()
                literal += re.escape(next_key)
            alternatives.append(literal + emit(child))
        if None in node:
            alternatives.append("")
        if len(alternatives) == 1:
            return alternatives[0]
        if alternatives[-1] == "":
            return "(?:" + "|".join(alternatives[:-1]) + ")?"
        return "(?:" + "|".join(alternatives) + ")"

    return emit(root)


class Anonymizer:
    """Replaces sensitive values by stable placeholders, for one conversation.

    `replacements` is the conversation's stored map (placeholder → original); values already in
    it keep their placeholders. After use, persist `replacements` (or just `new_replacements`).
    Not thread-safe: use one instance per request.
    """

    def __init__(
        self,
        replacements: Mapping[str, str] | None = None,
        detectors: DetectorSet | None = None,
        placeholder_factory: PlaceholderFactory = uuid_placeholder,
        *,
        min_free_text_length: int = 3,
    ) -> None:
        self.detectors = detectors if detectors is not None else DetectorSet()
        self.min_free_text_length = min_free_text_length
        self._factory = placeholder_factory
        self._to_original: dict[str, str] = {}  # placeholder → original
        self._to_placeholder: dict[str, str] = {}  # original → placeholder (and placeholder → itself)
        self._email_placeholder: dict[str, str] = {}  # folded e-mail → placeholder
        self._new: dict[str, str] = {}
        self._known = KnownValues()  # the values replaced inside free text
        self._separator_in_values = False  # a known value contains _SEPARATOR: texts are not joined
        # Bumped whenever a value becomes known: results computed before are stale.
        self._version = 0
        self._remembered: dict[Any, Any] = {}  # free-text value → its result, at _remembered_version
        self._remembered_version = 0
        # deanonymize_text: placeholder lengths, longest first; the compiled expression only for
        # maps with placeholders that are not single tokens (not Vigil's nor Kibana's).
        self._placeholder_lengths: list[int] = []
        self._runs = re.compile(r"[\w-]+")  # runs of token characters as long as the shortest placeholder
        self._odd_placeholders = False
        self._restore: re.Pattern[str] | None = None
        self._restore_dirty = False
        for placeholder, original in (replacements or {}).items():
            self._register(placeholder, str(original))

    # -- the map ---------------------------------------------------------------------------

    @property
    def replacements(self) -> dict[str, str]:
        """The full map placeholder → original (stored map plus everything added)."""
        return dict(self._to_original)

    @property
    def new_replacements(self) -> dict[str, str]:
        """Placeholders added during this anonymizer's life (placeholder → original)."""
        return dict(self._new)

    @property
    def short_values(self) -> tuple[str, ...]:
        """Placeholders of values too short to be replaced inside free text (only whole field
        values are): the caller should warn that these values may appear in free text."""
        return tuple(p for p, o in self._to_original.items() if 0 < len(o) < self.min_free_text_length)

    def placeholder_for(self, value: str) -> str:
        """The placeholder of `value`, created if new. A placeholder maps to itself."""
        existing = self._to_placeholder.get(value)
        if existing is not None:
            return existing
        if _is_email(value):
            existing = self._email_placeholder.get(fold(value))
            if existing is not None:
                return existing
        placeholder = self._factory()
        while placeholder in self._to_placeholder or placeholder in self._to_original:
            placeholder = self._factory()
        if not _TOKEN.fullmatch(placeholder):
            raise ValueError(f"placeholders must be single tokens ([\\w-]+), got {placeholder!r}")
        self._register(placeholder, value)
        self._new[placeholder] = value
        return placeholder

    def _register(self, placeholder: str, original: str) -> None:
        self._to_original[placeholder] = original
        self._to_placeholder.setdefault(original, placeholder)
        self._to_placeholder[placeholder] = placeholder
        self._known.discard(placeholder)  # a placeholder is never replaced
        eligible = len(original) >= self.min_free_text_length
        if eligible and original not in self._to_original:
            self._known.add(original, self._to_placeholder[original])
        if _is_email(original):
            folded = fold(original)
            first = self._email_placeholder.setdefault(folded, placeholder)
            if eligible:
                self._known.add_folded(folded, first)
        if _SEPARATOR in original:
            self._separator_in_values = True
        if len(placeholder) not in self._placeholder_lengths:
            self._placeholder_lengths = sorted({*self._placeholder_lengths, len(placeholder)}, reverse=True)
            self._runs = re.compile(f"[\\w-]{{{self._placeholder_lengths[-1]},}}")
        if not _TOKEN.fullmatch(placeholder):
            self._odd_placeholders = True
        self._version += 1
        self._restore_dirty = True

    # -- text ------------------------------------------------------------------------------

    def anonymize_text(self, text: str) -> str:
        """Every known value in `text` replaced by its placeholder (as whole tokens, leftmost
        then longest first; values shorter than `min_free_text_length` are left alone), then the
        detectors: each value they find gets a placeholder too."""
        text = self._known.replace(text)
        if self.detectors:
            # A detected value is known from then on, also where it appeared before the finding
            # (`x ... password=x`): replace known values again until nothing changes.
            for _ in range(4):
                replaced = self._apply_detectors(text)
                if replaced == text:
                    break
                text = self._known.replace(replaced)
        return text

    def _apply_detectors(self, text: str) -> str:
        findings = self.detectors.find(text)
        if not findings:
            return text
        parts: list[str] = []
        position = 0
        for finding in findings:
            start, end = finding.start, finding.end
            if start < position:
                continue
            # Widen a finding that touches a token to cover the whole token when that token is
            # a placeholder: a placeholder is never cut or anonymized again.
            while start > position and is_token_char(text[start - 1]):
                start -= 1
            while end < len(text) and is_token_char(text[end]):
                end += 1
            if not any(t in self._to_original for t in _TOKEN.findall(text, start, end)):
                start, end = finding.start, finding.end
            value = text[start:end]
            if value in self._to_original:  # already a placeholder
                continue
            # A finding that covers placeholders stands for the original text.
            original = self.deanonymize_text(value)
            parts.append(text[position:start])
            parts.append(self.placeholder_for(original))
            position = end
        parts.append(text[position:])
        return "".join(parts)

    def deanonymize_text(self, text: str) -> str:
        """Placeholders back to their originals (anywhere, not only as whole tokens: a model may
        glue a placeholder to other characters); at each place the longest placeholder.

        Placeholders are single tokens, so each lies inside a run of token characters at least
        as long as the shortest one: only those runs are looked at, nothing is compiled."""
        if not self._to_original:
            return text
        if self._odd_placeholders:
            return self._deanonymize_with_pattern(text)
        return self._runs.sub(self._restore_run, text)

    def _restore_run(self, match: re.Match[str]) -> str:
        run = match.group()
        original = self._to_original.get(run)
        if original is not None:
            return original
        originals, lengths = self._to_original, self._placeholder_lengths
        parts: list[str] = []
        position = last = 0
        while position <= len(run) - lengths[-1]:
            for length in lengths:
                original = originals.get(run[position : position + length])
                if original is not None:
                    parts += (run[last:position], original)
                    position = last = position + length
                    break
            else:
                position += 1
        return "".join((*parts, run[last:])) if parts else run

    def _deanonymize_with_pattern(self, text: str) -> str:
        if self._restore_dirty or self._restore is None:
            self._restore = re.compile(_trie_pattern(self._to_original) or "(?!)")
            self._restore_dirty = False
        originals = self._to_original
        return self._restore.sub(lambda m: originals[m.group()], text)

    # -- documents -------------------------------------------------------------------------

    def anonymize_document(self, document: Mapping[str, Any], policy: FieldPolicy) -> dict[str, list[Any]]:
        """An alert or event as it may be shown to the model.

        Nested or dotted ECS in; out: only allowed fields, as dotted names with list values (in
        document order; multi-valued fields stay lists). Anonymized fields' values become their
        placeholders (numbers too: a placeholder is a string). Every other allowed value is
        checked against the known values: a string that *is* one becomes its placeholder (even
        a short one), any other string goes through `anonymize_text`; a number equal to a known
        value (a user id anonymized elsewhere) becomes its placeholder."""
        return self.anonymize_documents((document,), policy)[0]

    def anonymize_documents(
        self, documents: Iterable[Mapping[str, Any]], policy: FieldPolicy
    ) -> list[dict[str, list[Any]]]:
        """`anonymize_document` for several documents (a chat turn's alerts): the anonymized
        values of all of them are collected first, then their free text is scanned at once."""
        batch: Sequence[Mapping[str, Any]] = documents if isinstance(documents, list | tuple) else list(documents)
        root = policy.root
        remembered = self._remembered if self._remembered_version == self._version else None
        while True:
            start = self._version
            outs: list[dict[str, list[Any]]] = []
            pending: list[_Slot] = []
            for document in batch:
                out: dict[str, list[Any]] = {}
                self._walk(document, root, out, remembered or {}, pending)
                outs.append(out)
            if remembered and self._version != start:
                remembered = None  # a value became known during the walk: remembered results are stale
                continue
            before_free_text = self._version
            self._fill(pending)
            if self._version == before_free_text:
                self._remember(pending)
            elif remembered:
                remembered = None  # a detector found a new value, which may be in remembered results
                continue
            return outs

    def _walk(
        self,
        document: Mapping[Any, Any],
        node: FieldNode,
        out: dict[str, list[Any]],
        remembered: dict[Any, Any],
        pending: list[_Slot],
    ) -> None:
        """One object of a document: allowed values into `out`. This is the hot loop (one pass
        per key of every walked object): a string or an int is handled here (`_values`
        states the same for any value; it is inlined for these two), exact `type(...) is` tests come
        before any `isinstance` (an ABC check costs more than the rest), and each field's list
        is made with its first value (most fields have one)."""
        entries = node.entries
        for key, item in document.items():
            name, allowed, anonymized, child = entries.get(key) or node.entry(key)
            kind = type(item)
            if kind is str or kind is int:
                if not allowed:
                    continue
                if anonymized:
                    if kind is int:
                        item = str(item)  # what json.dumps writes (see `_as_text`)
                    value = (self._to_placeholder.get(item) or self.placeholder_for(item)) if item else item
                    if name in out:
                        out[name].append(value)
                    else:
                        out[name] = [value]
                    continue
                value = remembered.get(item)
                if name in out:
                    bucket = out[name]
                    if value is None:
                        pending.append((bucket, len(bucket), item))
                        value = item
                    bucket.append(value)
                elif value is None:
                    out[name] = bucket = [item]
                    pending.append((bucket, 0, item))
                else:
                    out[name] = [value]
            elif kind is dict:
                if child is not None:
                    self._walk(item, child, out, remembered, pending)
            elif allowed or child is not None:
                self._values(
                    item if kind is list else (item,), name, allowed, anonymized, child, out, remembered, pending
                )

    def _values(
        self,
        items: Iterable[Any],
        name: str,
        allowed: bool,
        anonymized: bool,
        child: FieldNode | None,
        out: dict[str, list[Any]],
        remembered: dict[Any, Any],
        pending: list[_Slot],
    ) -> None:
        """Values of field `name`: a list's values belong to the list's field, and objects
        inside it are walked under the list's field (`child`), as Elasticsearch flattens them.
        Each other value, when the field is allowed: None as is; anonymized, its placeholder; a
        string or an int, its remembered result or pending; another number, pending (it may
        equal a known value); anything else as is."""
        for item in items:
            kind = type(item)
            if kind is dict or (kind not in _SCALARS and isinstance(item, Mapping)):
                if child is not None:
                    self._walk(item, child, out, remembered, pending)
                continue
            if kind is list or (kind not in _SCALARS and isinstance(item, list | tuple)):
                self._values(item, name, allowed, anonymized, child, out, remembered, pending)
                continue
            if not allowed:
                continue
            bucket = out.get(name)
            if bucket is None:
                bucket = out[name] = []
            if item is None:
                bucket.append(None)
            elif anonymized:
                text = item if kind is str else _as_text(item)
                bucket.append((self._to_placeholder.get(text) or self.placeholder_for(text)) if text else text)
            elif kind is int or isinstance(item, str):
                result = remembered.get(item)
                if result is None:
                    pending.append((bucket, len(bucket), item))
                    bucket.append(item)
                else:
                    bucket.append(result)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                pending.append((bucket, len(bucket), item))
                bucket.append(item)
            else:
                bucket.append(item)

    def _fill(self, pending: list[_Slot]) -> None:
        """The pending values of a batch, now that all its anonymized values are known: whole
        known values become their placeholders, the other strings are anonymized as free text
        (all in one scan), numbers equal to a known value become its placeholder."""
        free: list[_Slot] = []
        to_placeholder = self._to_placeholder
        for slot in pending:
            bucket, index, value = slot
            if isinstance(value, str):
                placeholder = to_placeholder.get(value)
                if placeholder is None and "@" in value:
                    placeholder = self._email_placeholder.get(fold(value))
                if placeholder is not None:
                    bucket[index] = placeholder
                else:
                    free.append(slot)
            else:
                bucket[index] = to_placeholder.get(_as_text(value), value)
        if not free:
            return
        # Each distinct text once (alerts of a batch repeat most of their strings).
        texts = list(dict.fromkeys(value for _, _, value in free))
        result_of = dict(zip(texts, self._anonymize_texts(texts), strict=True))
        for bucket, index, value in free:
            bucket[index] = result_of[value]

    def _anonymize_texts(self, texts: list[str]) -> list[str]:
        """`anonymize_text` of each text, as if they were one text: a value a detector finds in
        one is replaced in all of them.

        Normally joined by `_SEPARATOR` and scanned once (no known value can match across it and
        no detector pattern spans it); one by one, until a pass adds no value, when a text or a
        known value contains the separator."""
        joined = _SEPARATOR.join(texts)
        if not self._separator_in_values and joined.count(_SEPARATOR) == len(texts) - 1:
            return self.anonymize_text(joined).split(_SEPARATOR)
        for _ in range(4):
            before = self._version
            results = [self.anonymize_text(text) for text in texts]
            if self._version == before:
                break
        return results

    def _remember(self, pending: list[_Slot]) -> None:
        """Keep the free-text results of a batch for the next ones (valid while no value is added)."""
        if self._remembered_version != self._version:
            self._remembered.clear()
            self._remembered_version = self._version
        remembered = self._remembered
        if len(remembered) + len(pending) > _REMEMBER_LIMIT:
            remembered.clear()
        for bucket, index, value in pending:
            kind = type(value)
            # Exact ints too (a port, a pid): never a float, which would share an int's key
            # (`443.0 == 443`) but not its text.
            if (kind is str and len(value) <= _REMEMBER_MAX_LENGTH) or kind is int:
                remembered[value] = bucket[index]


def _as_text(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)  # what json.dumps writes, faster
    return json.dumps(value, default=str)
