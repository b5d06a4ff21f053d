"""DISSECT patterns (``%{key} - %{+key} %{?skip} %{pad->}``) as one anchored regular expression.

Like Elasticsearch's dissect, keys match lazily up to the next delimiter and the last key takes
the rest of the text; ``%{+key}`` appends to an earlier key with the append separator,
``%{key->}`` lets the following delimiter repeat. Reference keys (``%{*k}``/``%{&k}``) are not
supported by ES|QL's DISSECT and are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"%\{([^}]*)\}")


@dataclass(frozen=True)
class DissectPattern:
    regex: str
    captures: list[str]  # regex group names, in order (g1, g2, ...)
    outputs: list[str]  # output column names in order of first appearance
    parts: dict[str, list[str]]  # output name -> captures joined (in append order)
    separator: str


_META = set("\\.^$|?*+()[]{}")


def escape(text: str) -> str:
    """Escape regex metacharacters only (RE2 rejects escapes of letters and spaces)."""
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def parse(pattern: str, append_separator: str | None = None) -> DissectPattern:
    keys = list(_KEY.finditer(pattern))
    if not keys:
        raise ValueError("Unable to find any keys or delimiters.")
    regex = ["^"]
    position = 0
    captures: list[str] = []
    outputs: list[str] = []
    appends: dict[str, list[tuple[int, str]]] = {}
    pad_next = False
    for number, match in enumerate(keys):
        delimiter = pattern[position : match.start()]
        if delimiter:
            escaped = escape(delimiter)
            regex.append(f"(?:{escaped})+" if pad_next else escaped)
        elif number > 0 and not pad_next:
            raise ValueError("Unable to find delimiter between keys")
        body = match.group(1)
        pad_next = body.endswith("->")
        if pad_next:
            body = body[:-2]
        last = number == len(keys) - 1 and match.end() == len(pattern)
        group = "(.*)" if last else "(.*?)"
        if body.startswith(("*", "&")):
            raise ValueError(f"Reference keys are not supported [{body}]")
        if body == "" or body.startswith("?"):
            regex.append(".*" if last else ".*?")
        else:
            append = body.startswith("+")
            name = body[1:] if append else body
            order = len(appends.get(name, []))
            if "/" in name:
                name, _, suffix = name.partition("/")
                order = int(suffix) if suffix.isdigit() else order
            capture = f"g{len(captures) + 1}"
            captures.append(capture)
            regex.append(group)
            if name not in appends:
                appends[name] = []
                outputs.append(name)
            appends[name].append((order, capture))
        position = match.end()
    trailing = pattern[position:]
    if trailing:
        regex.append(escape(trailing))
    parts = {name: [capture for _, capture in sorted(items, key=lambda x: x[0])] for name, items in appends.items()}
    return DissectPattern("".join(regex), captures, outputs, parts, append_separator or "")
