"""GROK patterns compiled to one RE2 regular expression with one group per extracted field.

Patterns come from the bundled library (``grok-patterns``, Elasticsearch's ECS v1 set). The
library is written for Oniguruma; RE2 (DuckDB's engine) has no lookaround and no atomic groups,
so lookarounds are dropped and atomic groups become plain groups: the few patterns relying on
them (word-boundary guards around numbers) match slightly more text, never less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vigil.esql import types as t
from vigil.esql.types import DataType

_REFERENCE = re.compile(r"%\{(\w+)(?::([^:}]+))?(?::(\w+))?\}")
_TYPES = {"int": t.INTEGER, "long": t.LONG, "float": t.DOUBLE, "double": t.DOUBLE, "boolean": t.BOOLEAN}
MAX_DEPTH = 30


@dataclass(frozen=True)
class GrokPattern:
    regex: str
    outputs: list[tuple[str, str, DataType]]  # (regex group name, field name, type) in pattern order


@cache
def library() -> dict[str, str]:
    text = resources.files("vigil.esql.patterns").joinpath("grok-patterns").read_text(encoding="utf-8")
    patterns: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, body = line.partition(" ")
        patterns[name] = body.strip()
    return patterns


def field_name(semantic: str) -> str:
    """``[process][name]`` (Logstash field reference) -> ``process.name``."""
    if semantic.startswith("["):
        return ".".join(part for part in re.split(r"[\[\]]+", semantic) if part)
    return semantic


def compile_pattern(pattern: str) -> GrokPattern:
    outputs: list[tuple[str, str, DataType]] = []
    seen: dict[str, int] = {}
    patterns = library()

    def expand(text: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise ValueError("circular reference in grok patterns")
        result: list[str] = []
        position = 0
        for match in _REFERENCE.finditer(text):
            result.append(to_re2(text[position : match.start()]))
            name, semantic, type_name = match.groups()
            if name not in patterns:
                raise ValueError(f"Unable to find pattern [{name}] in Grok's pattern dictionary")
            inner = expand(patterns[name], depth + 1)
            if semantic:
                field = field_name(semantic)
                if field in seen:
                    result.append(f"(?:{inner})")
                else:
                    group = f"g{len(outputs) + 1}"
                    seen[field] = len(outputs)
                    if type_name and type_name not in _TYPES:
                        raise ValueError(f"Unsupported type [{type_name}]")
                    outputs.append((group, field, _TYPES.get(type_name or "", t.KEYWORD)))
                    result.append(f"(?P<{group}>{inner})")
            else:
                result.append(f"(?:{inner})")
            position = match.end()
        result.append(to_re2(text[position:]))
        return "".join(result)

    regex = expand(pattern, 0)
    return GrokPattern(regex, outputs)


def to_re2(regex: str) -> str:
    """Rewrite an Oniguruma fragment for RE2: every group non-capturing, lookarounds removed."""
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" and regex.startswith("[:", i):
                end = regex.find(":]", i)
                if end > 0:
                    out.append(regex[i : end + 2])
                    i = end + 2
                    continue
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            # A ']' right after '[' or '[^' is a literal.
            if regex.startswith("^", i):
                out.append("^")
                i += 1
            if regex.startswith("]", i):
                out.append("]")
                i += 1
            continue
        if ch == "(":
            if regex.startswith(("(?<!", "(?<=", "(?!", "(?="), i):
                i = _skip_group(regex, i)
                continue
            if regex.startswith("(?>", i):
                out.append("(?:")
                i += 3
                continue
            named = re.match(r"\(\?<([A-Za-z]\w*)>", regex[i:])
            if named:
                out.append("(?:")
                i += named.end()
                continue
            if regex.startswith("(?", i):
                out.append("(")
                i += 1
                continue
            out.append("(?:")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _skip_group(regex: str, start: int) -> int:
    """Index just past the group opening at ``start`` (balanced parentheses, escapes, classes)."""
    depth = 0
    i = start
    in_class = False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i
