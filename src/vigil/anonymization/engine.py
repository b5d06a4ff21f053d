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

- Longer values win over shorter ones at the same place (`srv-1.corp` over `srv-1`).
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

All known values are compiled into one regular expression shaped as a character trie (one
alternation of plain values makes Python's `re` try every value at every position), starting
with the separator before the value so `re` skips through tokens in C (see `_Matcher`). Compiling is
the expensive part, so values added since the last compilation go into a small second
expression that is applied first; the main one is rebuilt when the second grows past a quarter
of a fixed size. A main value that contains a newer value is copied into the small expression too, so the
longer value still wins. `anonymize_document` joins all free-text values of a document and runs
the expressions and detectors once over the whole.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from vigil.anonymization.detectors import DetectorSet
from vigil.anonymization.policy import FieldPolicy

__all__ = ["Anonymizer", "PlaceholderFactory", "uuid_placeholder"]

PlaceholderFactory = Callable[[], str]

_TOKEN_CHAR = re.compile(r"[\w-]")
_TOKEN = re.compile(r"[\w-]+")
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_AFTER = r"(?![\w-])"
# Joins the free-text values of one document so they are scanned in one pass. A value that
# contains it, or a replacement that swallows it, is detected by the split count and the values
# are then done one by one.
_SEPARATOR = "\x00"
# Values compiled into the small expression before the main one is rebuilt.
_PENDING_LIMIT = 48


def uuid_placeholder() -> str:
    """Kibana's placeholder: a UUID v4 string."""
    return str(uuid.uuid4())


def _fold(value: str) -> str:
    """Case folding for e-mail addresses, one character for one (so trie and lookup agree)."""
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in value)


def _is_token_char(ch: str) -> bool:
    return _TOKEN_CHAR.match(ch) is not None


def _char_pattern(ch: str, insensitive: bool) -> str:
    if insensitive:
        upper = ch.upper()
        if len(upper) == 1 and upper != ch:
            return f"[{re.escape(ch)}{re.escape(upper)}]"
    return re.escape(ch)


def _trie_pattern(exact: Iterable[str], insensitive: Iterable[str]) -> str | None:
    """One regular expression matching any of the values, longest first, each followed by a
    token boundary when it ends with a token character. The boundary *before* a value is the
    caller's business (see `_Matcher`).

    Trie keys are (char, case-insensitive?) pairs; the e-mail addresses (`insensitive`) are
    inserted folded."""
    root: dict[Any, Any] = {}
    count = 0
    for values, ci in ((exact, False), (insensitive, True)):
        for value in values:
            if not value:
                continue
            node = root
            for ch in value:
                node = node.setdefault((ch, ci), {})
            node[None] = not _is_token_char(value[-1])  # True: the end needs no boundary check
            count += 1
    if not count:
        return None

    def emit(node: dict[Any, Any]) -> str:
        alternatives: list[str] = []
        for key in sorted(k for k in node if k is not None):
            literal = _char_pattern(*key)
            child = node[key]
            while len(child) == 1 and None not in child:  # compress single-child chains
                ((next_key, child),) = child.items()
                literal += _char_pattern(*next_key)
            alternatives.append(literal + emit(child))
        if None in node:
            alternatives.append("" if node[None] else _AFTER)
        if len(alternatives) == 1:
            return alternatives[0]
        if alternatives[-1] == "":
            return "(?:" + "|".join(alternatives[:-1]) + ")?"
        return "(?:" + "|".join(alternatives) + ")"

    return emit(root)


class _Matcher:
    """Compiled tries over some values.

    Values that start with a token character (nearly all) are matched *with the separator
    before them*: `[^\\w-]` first lets `re` skip through the text in C to the next separator
    instead of trying the whole expression at every position (twice as fast as a lookbehind);
    the text is given a leading separator so a value can start it. The rare values that start
    with a separator themselves need no boundary and have their own expression."""

    __slots__ = ("folded", "other", "pattern", "values")

    def __init__(self, values: Iterable[str], emails: Iterable[str]) -> None:
        self.values = frozenset(values)
        self.folded = frozenset(emails)
        token_start = sorted(v for v in self.values if _is_token_char(v[0]))
        other = sorted(v for v in self.values if not _is_token_char(v[0]))
        folded_token_start = sorted(f for f in self.folded if _is_token_char(f[0]))
        folded_other = sorted(f for f in self.folded if not _is_token_char(f[0]))
        source = _trie_pattern(token_start, folded_token_start)
        self.pattern = re.compile(f"[^\\w-](?:{source})") if source else None
        source = _trie_pattern(other, folded_other)
        self.other = re.compile(source) if source else None

    def sub(self, text: str, lookup: Callable[[str], str]) -> str:
        if self.other is not None:
            text = self.other.sub(lambda m: lookup(m.group()), text)
        if self.pattern is not None:

            def replace(match: re.Match[str]) -> str:
                found = match.group()
                return found[0] + lookup(found[1:])

            text = self.pattern.sub(replace, " " + text)[1:]
        return text


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
        self._main = _Matcher((), ())
        self._pending: list[str] = []  # free-text values not in the main matcher yet
        self._pending_matcher: _Matcher | None = None
        self._pending_dirty = False
        self._restore: re.Pattern[str] | None = None
        self._restore_dirty = False
        for placeholder, original in (replacements or {}).items():
            self._register(placeholder, str(original))
        self._rebuild_main()

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
        if "@" in value and _EMAIL_SHAPE.fullmatch(value):
            existing = self._email_placeholder.get(_fold(value))
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
        is_email = "@" in original and _EMAIL_SHAPE.fullmatch(original) is not None
        if is_email:
            self._email_placeholder.setdefault(_fold(original), placeholder)
        if len(original) >= self.min_free_text_length:
            self._pending.append(original)
        self._pending_dirty = True
        self._restore_dirty = True

    # -- matchers --------------------------------------------------------------------------

    def _rebuild_main(self) -> None:
        exact = [v for v in self._to_placeholder if len(v) >= self.min_free_text_length and v not in self._to_original]
        emails = [e for e in self._email_placeholder if len(e) >= self.min_free_text_length]
        self._main = _Matcher(exact, emails)
        self._pending.clear()
        self._pending_matcher = None
        self._pending_dirty = False

    def _matchers(self) -> tuple[_Matcher | None, _Matcher]:
        if self._pending_dirty:
            self._pending_dirty = False
            if len(self._pending) > _PENDING_LIMIT:
                self._rebuild_main()
            else:
                pending = set(self._pending)
                # Main values that contain a pending one must be tried first, or the shorter
                # pending value would be replaced inside them.
                main_text = _SEPARATOR.join(self._main.values)
                containing: set[str] = set()
                for value in pending:
                    if value in main_text:
                        containing.update(v for v in self._main.values if value in v)
                exact = pending | containing
                emails = {f for v in exact if "@" in v and (f := _fold(v)) in self._email_placeholder}
                self._pending_matcher = _Matcher(exact, emails)
        return self._pending_matcher, self._main

    def _lookup(self, value: str) -> str:
        placeholder = self._to_placeholder.get(value)
        if placeholder is None:
            placeholder = self._email_placeholder.get(_fold(value), value)
        return placeholder

    # -- text ------------------------------------------------------------------------------

    def anonymize_text(self, text: str) -> str:
        """Every known value in `text` replaced by its placeholder (as whole tokens, longest
        first; values shorter than `min_free_text_length` are left alone), then the detectors:
        each value they find gets a placeholder too."""
        text = self._replace_all_known(text)
        if self.detectors:
            # A detected value is known from then on, also where it appeared before the finding
            # (`x ... password=x`): replace known values again until nothing changes.
            for _ in range(4):
                replaced = self._apply_detectors(text)
                if replaced == text:
                    break
                text = self._replace_all_known(replaced)
        return text

    def _replace_all_known(self, text: str) -> str:
        pending, main = self._matchers()
        if pending is not None:
            text = pending.sub(text, self._lookup)
        return main.sub(text, self._lookup)

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
            while start > position and _is_token_char(text[start - 1]):
                start -= 1
            while end < len(text) and _is_token_char(text[end]):
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
        glue a placeholder to other characters)."""
        if self._restore_dirty or self._restore is None:
            source = _trie_pattern(sorted(self._to_original), ())
            self._restore = re.compile(source.replace(_AFTER, "")) if source else None
            self._restore_dirty = False
        if self._restore is None:
            return text
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
        values of all of them are collected first, so the matcher is compiled once."""
        outs: list[dict[str, list[Any]]] = []
        texts: list[str] = []
        slots: list[tuple[list[Any], int]] = []
        rule_for = policy.rule_for
        known = self._to_placeholder
        for document in documents:
            out: dict[str, list[Any]] = {}
            outs.append(out)
            leaves: list[tuple[str, Any]] = []
            _flatten(document, "", policy, leaves)
            for field, value in leaves:
                rule = rule_for(field)
                if not rule.allowed:
                    continue
                bucket = out.get(field)
                if bucket is None:
                    bucket = out[field] = []
                if value is None:
                    bucket.append(None)
                elif isinstance(value, str):
                    if rule.anonymized:
                        bucket.append(self.placeholder_for(value) if value else value)
                    else:
                        slots.append((bucket, len(bucket)))
                        bucket.append(value)
                        texts.append(value)
                elif rule.anonymized:
                    bucket.append(self.placeholder_for(_as_text(value)))
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    slots.append((bucket, len(bucket)))
                    bucket.append(value)
                else:
                    bucket.append(value)
        if not slots:
            return outs
        # Now that every anonymized value is known: whole values first, then free text.
        free: list[tuple[list[Any], int]] = []
        free_texts: list[str] = []
        emails = self._email_placeholder
        for (bucket, index), value in zip(slots, (b[i] for b, i in slots), strict=True):
            if isinstance(value, str):
                placeholder = known.get(value)
                if placeholder is None and "@" in value:
                    placeholder = emails.get(_fold(value))
                if placeholder is not None:
                    bucket[index] = placeholder
                else:
                    free.append((bucket, index))
                    free_texts.append(value)
            else:
                bucket[index] = known.get(_as_text(value), value)
        if free_texts:
            results = self.anonymize_text(_SEPARATOR.join(free_texts)).split(_SEPARATOR)
            if len(results) != len(free_texts):
                results = [self.anonymize_text(t) for t in free_texts]
            for (bucket, index), result in zip(free, results, strict=True):
                bucket[index] = result
        return outs


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _flatten(value: Mapping[str, Any], prefix: str, policy: FieldPolicy, out: list[tuple[str, Any]]) -> None:
    """(dotted field, scalar) pairs: nested objects flattened, lists expanded (objects inside
    lists flattened under the list's field, as Elasticsearch does). Objects under which the
    policy allows nothing are skipped. (`type(...) is` first: this is the hot loop.)"""
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        kind = type(item)
        if kind is str or kind is int or kind is float or kind is bool or item is None:
            out.append((name, item))
        elif kind is dict or isinstance(item, Mapping):
            if policy.allows_under(name + "."):
                _flatten(item, name, policy, out)
        elif kind is list or isinstance(item, tuple):
            _flatten_list(item, name, policy, out)
        else:
            out.append((name, item))


def _flatten_list(items: Iterable[Any], name: str, policy: FieldPolicy, out: list[tuple[str, Any]]) -> None:
    for item in items:
        if isinstance(item, Mapping):
            if policy.allows_under(name + "."):
                _flatten(item, name, policy, out)
        elif isinstance(item, list | tuple):
            _flatten_list(item, name, policy, out)
        else:
            out.append((name, item))
