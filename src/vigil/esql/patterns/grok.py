"""GROK patterns compiled to one RE2 regular expression with one group per extracted field.

Patterns come from the bundled library (``grok-patterns``, Elasticsearch's ECS v1 set). The
library is written for Oniguruma; RE2 (DuckDB's engine) has no lookaround and no atomic groups,
so lookarounds are dropped and atomic groups become plain groups: the few patterns relying on
them (word-boundary guards around numbers) match slightly more text, never less.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vigil.esql import types as t
from vigil.esql.types import DataType

_REFERENCE = re.compile(r"%\{(\w+)(?::([^:}]+))?(?::(\w+))?\}")
_TYPES = {"int": t.INTEGER, "long": t.LONG, "float": t.DOUBLE, "double": t.DOUBLE, "boolean": t.BOOLEAN}
MAX_DEPTH = 30
_MAX_BOUND = 20


@dataclass(frozen=True)
class GrokPattern:
    regex: str
    # (field name, regex groups holding it, type) in order of first appearance. A field captured
    # by several groups (repeated in the pattern, or in several alternative patterns) is a list.
    outputs: list[tuple[str, list[str], DataType]]
    repeated: frozenset[str]  # fields captured more than once in one match: multi-values


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


class _Compiler:
    def __init__(self) -> None:
        self.patterns = library()
        self.groups: dict[str, list[str]] = {}
        self.types: dict[str, DataType] = {}
        self.order: list[str] = []
        self.counter = 0
        self.repeated: set[str] = set()
        self.seen_in_pattern: set[str] = set()

    def capture(self, field: str, type_: DataType) -> str:
        self.counter += 1
        group = f"g{self.counter}"
        if field not in self.groups:
            self.groups[field] = []
            self.order.append(field)
            self.types[field] = type_
        if field in self.seen_in_pattern:
            self.repeated.add(field)
        self.seen_in_pattern.add(field)
        self.groups[field].append(group)
        return group

    def expand(self, text: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise ValueError("circular reference in grok patterns")
        result: list[str] = []
        position = 0
        for match in _REFERENCE.finditer(text):
            result.append(to_re2(text[position : match.start()], self.named))
            name, semantic, type_name = match.groups()
            if name not in self.patterns:
                raise ValueError(f"Unable to find pattern [{name}] in Grok's pattern dictionary")
            inner = self.expand(self.patterns[name], depth + 1)
            if semantic:
                if type_name and type_name not in _TYPES:
                    raise ValueError(f"Unsupported type [{type_name}]")
                group = self.capture(field_name(semantic), _TYPES.get(type_name or "", t.KEYWORD))
                result.append(f"(?P<{group}>{inner})")
            else:
                result.append(f"(?:{inner})")
            position = match.end()
        result.append(to_re2(text[position:], self.named))
        return "".join(result)

    def named(self, name: str) -> str:
        return self.capture(name, t.KEYWORD)


def compile_pattern(pattern: str, *more: str) -> GrokPattern:
    """One regex for ``pattern`` (or the alternatives ``pattern, *more``, tried in order)."""
    compiler = _Compiler()
    alternatives = []
    for text in (pattern, *more):
        compiler.seen_in_pattern = set()
        alternatives.append(compiler.expand(text, 0))
    regex = alternatives[0] if len(alternatives) == 1 else "|".join(f"(?:{a})" for a in alternatives)
    outputs = [(field, compiler.groups[field], compiler.types[field]) for field in compiler.order]
    return GrokPattern(regex, outputs, frozenset(compiler.repeated))


def to_re2(regex: str, named: Callable[[str], str] | None = None) -> str:
    """Rewrite an Oniguruma fragment for RE2: lookarounds removed, atomic groups plain, unnamed
    groups non-capturing; ``(?<name>...)`` captures through ``named`` (or is dropped)."""
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
        if ch == "{":
            bounded = re.match(r"\{(\d+),(\d+)\}", regex[i:])
            if bounded and int(bounded.group(2)) > _MAX_BOUND:
                # RE2 caps nested repetition counts; a large upper bound becomes unbounded.
                out.append("{" + bounded.group(1) + ",}")
                i += bounded.end()
                continue
        if ch == "(":
            if regex.startswith(("(?<!", "(?<=", "(?!", "(?="), i):
                i = _skip_group(regex, i)
                continue
            if regex.startswith("(?>", i):
                out.append("(?:")
                i += 3
                continue
            named_group = re.match(r"\(\?<([A-Za-z][\w.]*)>", regex[i:])
            if named_group:
                out.append(f"(?P<{named(named_group.group(1))}>" if named else "(?:")
                i += named_group.end()
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
