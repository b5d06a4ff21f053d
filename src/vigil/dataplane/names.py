"""Index names as Elasticsearch validates and resolves them."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable

from vigil.dataplane.errors import IndexNotFoundError, InvalidIndexNameError

MAX_INDEX_NAME_BYTES = 255
# Elasticsearch prints its Strings.INVALID_FILENAME_CHARS set like this.
_INVALID_CHARS = frozenset('\\/*?"<>| ,')
_INVALID_CHARS_TEXT = '[ , ", *, \\, <, |, ,, >, /, ?]'

# Elasticsearch's built-in index templates make these names data streams (logs-nginx-default).
_DATA_STREAM_PATTERNS = ("logs-*-*", "metrics-*-*", "traces-*-*", "synthetics-*-*")


def validate_index_name(name: str) -> None:
    """Raise InvalidIndexNameError unless `name` can name a new index (Elasticsearch's rules)."""
    if not name:
        raise InvalidIndexNameError(name, "must not be empty")
    if name.lower() != name:
        raise InvalidIndexNameError(name, "must be lowercase")
    if any(char in _INVALID_CHARS for char in name):
        raise InvalidIndexNameError(name, f"must not contain the following characters {_INVALID_CHARS_TEXT}")
    if "#" in name:
        raise InvalidIndexNameError(name, "must not contain '#'")
    if ":" in name:
        raise InvalidIndexNameError(name, "must not contain ':'")
    if name[0] in "_-+":
        raise InvalidIndexNameError(name, "must not start with '_', '-', or '+'")
    size = len(name.encode())
    if size > MAX_INDEX_NAME_BYTES:
        raise InvalidIndexNameError(name, f"index name is too long, ({size} > {MAX_INDEX_NAME_BYTES})")
    if name in (".", ".."):
        raise InvalidIndexNameError(name, "must not be '.' or '..'")


def is_data_stream_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _DATA_STREAM_PATTERNS)


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def resolve_names(expression: str, existing: Iterable[str], aliases: Callable[[str], str | None]) -> list[str]:
    """Names `expression` selects among `existing` (sorted), as Elasticsearch resolves it.

    Comma lists; `*` wildcards (hidden `.names` only when the pattern starts with a dot);
    `_all`; `-pattern` removes what earlier parts added. `aliases(name)` maps another name for
    an index (a data stream's backing index) to the index. A concrete name that does not exist
    raises IndexNotFoundError; a wildcard that matches nothing adds nothing.
    """
    names = sorted(existing)
    selected: dict[str, None] = {}
    parts = [part.strip() for part in expression.split(",")] if expression else ["_all"]
    seen_wildcard = False
    for part in parts:
        if not part:
            continue
        if part.startswith("-") and seen_wildcard:
            regex = _wildcard_regex(part[1:])
            for name in [n for n in selected if regex.match(n)]:
                del selected[name]
            continue
        if part in ("_all", "*"):
            seen_wildcard = True
            selected.update((name, None) for name in names if not is_hidden(name))
            continue
        if "*" in part:
            seen_wildcard = True
            regex = _wildcard_regex(part)
            hidden_too = part.startswith(".")
            selected.update((name, None) for name in names if regex.match(name) and (hidden_too or not is_hidden(name)))
            continue
        target = part if part in names else aliases(part)
        if target is None:
            raise IndexNotFoundError(part)
        selected[target] = None
    return list(selected)
