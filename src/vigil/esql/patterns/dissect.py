"""DISSECT patterns (``%{key} - %{+key} %{?skip} %{pad->}``) as one anchored regular expression.

Like Elasticsearch's dissect, keys match lazily up to the next delimiter and the last key takes
the rest of the text; ``%{+key}`` appends to an earlier key with the append separator,
``%{key->}`` lets the following delimiter repeat. Reference keys (``%{*k}``/``%{&k}``) are not
supported by ES|QL's DISSECT and are rejected.

Elasticsearch's dissect never backtracks: a key ends at the first occurrence of its delimiter.
When the whole pattern matches, the lazy regex finds that same parse, so one key's value is
already decided by the text up to its own delimiter. ``prefixes`` holds, per capture, that
shorter regex with the one group (a one-character delimiter ``c`` read as ``[^c\\n]*``, which RE2
runs in one pass): matching the whole pattern once without groups and extracting each needed
key from its prefix gives the same values as extracting every group of the full pattern, at a
fraction of the cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEY = re.compile(r"%\{([^}]*)\}")


@dataclass(frozen=True)
class DissectPattern:
    regex: str
    captures: list[str]  # regex group names, in order (g1, g2, ...)
    outputs: list[str]  # output column names in order of first appearance
    parts: dict[str, list[str]]  # output name -> captures joined (in append order)
    separator: str
    # capture -> anchored regex up to the capture's delimiter, with that capture as its only group.
    # Empty when the argument above does not hold (``->`` padding, a delimiter with a newline).
    prefixes: dict[str, str] = field(default_factory=dict)
    # With `prefixes`: the pattern as a match test only, without groups and without a last key
    # (which matches any rest of the line), so RE2's DFA stops at the last delimiter.
    match_regex: str = ""


_META = set("\\.^$|?*+()[]{}")


def escape(text: str) -> str:
    """Escape regex metacharacters only (RE2 rejects escapes of letters and spaces)."""
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def _class_char(ch: str) -> str:
    return ch if ch.isalnum() or ch == " " else "\\" + ch


def parse(pattern: str, append_separator: str | None = None) -> DissectPattern:
    keys = list(_KEY.finditer(pattern))
    if not keys:
        raise ValueError("Unable to find any keys or delimiters.")
    # The regex as pieces; a key's piece is (capture or None, its regex), a delimiter's (None, text).
    pieces: list[tuple[str | None, str]] = [(None, "^")]
    delimiters: list[str] = []
    position = 0
    captures: list[str] = []
    outputs: list[str] = []
    appends: dict[str, list[tuple[int, str]]] = {}
    pad_next = padded = False
    for number, match in enumerate(keys):
        delimiter = pattern[position : match.start()]
        if delimiter:
            escaped = escape(delimiter)
            pieces.append((None, f"(?:{escaped})+" if pad_next else escaped))
            delimiters.append(delimiter)
        elif number > 0 and not pad_next:
            raise ValueError("Unable to find delimiter between keys")
        body = match.group(1)
        pad_next = body.endswith("->")
        if pad_next:
            padded = True
            body = body[:-2]
        last = number == len(keys) - 1 and match.end() == len(pattern)
        if body.startswith(("*", "&")):
            raise ValueError(f"Reference keys are not supported [{body}]")
        if body == "" or body.startswith("?"):
            pieces.append((None, ".*" if last else ".*?"))
        else:
            append = body.startswith("+")
            name = body[1:] if append else body
            order = len(appends.get(name, []))
            if "/" in name:
                name, _, suffix = name.partition("/")
                order = int(suffix) if suffix.isdigit() else order
            capture = f"g{len(captures) + 1}"
            captures.append(capture)
            pieces.append((capture, "(.*)" if last else "(.*?)"))
            if name not in appends:
                appends[name] = []
                outputs.append(name)
            appends[name].append((order, capture))
        position = match.end()
    trailing = pattern[position:]
    if trailing:
        pieces.append((None, escape(trailing)))
        delimiters.append(trailing)
    parts = {name: [capture for _, capture in sorted(items, key=lambda x: x[0])] for name, items in appends.items()}
    regex = "".join(text for _, text in pieces)
    if padded or any("\n" in d for d in delimiters):
        return DissectPattern(regex, captures, outputs, parts, append_separator or "")
    body = pieces[:-1] if pieces[-1][1] in ("(.*)", ".*") else pieces  # a last key matches any rest
    test = "".join(text if capture is None else "(?:" + text[1:] for capture, text in body)
    return DissectPattern(
        regex, captures, outputs, parts, append_separator or "", _prefixes(pieces, pattern, keys), test
    )


def _prefixes(pieces: list[tuple[str | None, str]], pattern: str, keys: list[re.Match[str]]) -> dict[str, str]:
    """Per capture: the pieces up to its delimiter, other groups non-capturing (see the module doc)."""
    # Each key's piece index, and the literal delimiter following it ("" for a last key).
    key_pieces = [index for index, (_, text) in enumerate(pieces) if index and text in ("(.*?)", "(.*)", ".*?", ".*")]
    prefixes: dict[str, str] = {}
    for number, index in enumerate(key_pieces):
        capture = pieces[index][0]
        if capture is None:
            continue
        end = keys[number + 1].start() if number + 1 < len(keys) else len(pattern)
        delimiter = pattern[keys[number].end() : end]
        regex = []
        for other, (other_capture, text) in enumerate(pieces[: index + 2 if delimiter else len(pieces)]):
            if other == index and len(delimiter) == 1:
                regex.append(f"([^{_class_char(delimiter)}\\n]*)")
            elif other != index and other_capture is not None:
                regex.append("(?:" + text[1:])
            else:
                regex.append(text)
        prefixes[capture] = "".join(regex)
    return prefixes
