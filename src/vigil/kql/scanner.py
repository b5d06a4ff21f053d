"""Character-level KQL lexing: quoted strings, unquoted literals, escapes and keywords.

The rules follow Kibana's kuery grammar (grammar.peggy) so queries typed for Kibana mean the
same thing here; deliberate differences are noted where they happen.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from .errors import KqlSyntaxError

WHITESPACE = frozenset(" \t\r\n\u00a0")
# Characters that end an unquoted literal unless escaped with a backslash.
SPECIAL = frozenset('\\():<>"*{}')
KEYWORDS = ("and", "not", "or")
# A keyword is only a keyword as a whole word: `or:x` is a field named "or" but `or (` is OR.
_KEYWORD_END = WHITESPACE | frozenset('()"{}')
_WHITESPACE_ESCAPES = {"t": "\t", "r": "\r", "n": "\n"}


@dataclass(frozen=True)
class Literal:
    """A scanned field name or value; ``wildcards`` flags which chars are unescaped ``*``."""

    start: int
    end: int
    quoted: bool
    text: str
    wildcards: tuple[bool, ...]

    @property
    def has_wildcard(self) -> bool:
        return any(self.wildcards)

    @property
    def is_lone_wildcard(self) -> bool:
        return self.wildcards == (True,)

    def pattern(self) -> str:
        """The text in :class:`~vigil.kql.ast.Term` pattern form (literal ``*`` and ``\\`` escaped)."""
        out = []
        for char, wild in zip(self.text, self.wildcards, strict=True):
            if wild:
                out.append("*")
            else:
                out.append("\\" + char if char in "*\\" else char)
        return "".join(out)


def keyword_at(text: str, pos: int) -> str | None:
    """The keyword (lower-cased) that starts at ``pos`` as a whole word, if any."""
    for keyword in KEYWORDS:
        end = pos + len(keyword)
        if text[pos:end].lower() == keyword and (end == len(text) or text[end] in _KEYWORD_END):
            return keyword
    return None


def skip_whitespace(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in WHITESPACE:
        pos += 1
    return pos


def check_characters(text: str) -> None:
    """Reject characters no database column can hold, so they fail here and not in the driver."""
    for pos, char in enumerate(text):
        _check_char(char, pos)


def _check_char(char: str, pos: int) -> None:
    if char == "\x00" or "\ud800" <= char <= "\udfff":
        raise KqlSyntaxError(f"invalid character U+{ord(char):04X}", pos)


def scan_quoted(text: str, pos: int) -> Literal:
    """Scan ``"..."`` starting at ``pos``; escapes as Kibana: ``\\"``, ``\\\\``, ``\\t``, ``\\uXXXX``...

    Like Kibana, a backslash before any other character is kept literally.
    """
    chars: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return Literal(pos, i + 1, True, "".join(chars), (False,) * len(chars))
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in _WHITESPACE_ESCAPES:
                chars.append(_WHITESPACE_ESCAPES[following])
                i += 2
                continue
            if following == "u" and _hex4(text, i + 2):
                decoded, i = _unicode_escape(text, i)
                chars.append(decoded)
                continue
            if following in '\\"':
                chars.append(following)
                i += 2
                continue
        chars.append(char)
        i += 1
    raise KqlSyntaxError(
        f"expected '\"' to close the quoted string started at column {pos} but found end of input",
        len(text),
    )


def scan_unquoted(text: str, pos: int) -> Literal:
    """Scan an unquoted literal: it runs until a special character, a keyword or the end.

    Inner whitespace belongs to the literal (``title: foo bar`` is one value) and trailing
    whitespace is dropped. Returns an empty literal if ``pos`` starts with a special character.
    """
    chars: list[str] = []
    wildcards: list[bool] = []
    raw_whitespace: list[bool] = []
    i = pos
    while i < len(text):
        char = text[i]
        if char == "\\":
            decoded, i = _unquoted_escape(text, i)
            chars.extend(decoded)
            wildcards.extend([False] * len(decoded))
            raw_whitespace.extend([False] * len(decoded))
            continue
        if char in SPECIAL and char != "*":
            break
        if char in WHITESPACE:
            # Take the whole run at once (linear time), unless a keyword follows it.
            run_end = skip_whitespace(text, i)
            if keyword_at(text, run_end) is not None:
                break
            chars.extend(text[i:run_end])
            wildcards.extend([False] * (run_end - i))
            raw_whitespace.extend([True] * (run_end - i))
            i = run_end
            continue
        chars.append(char)
        wildcards.append(char == "*")
        raw_whitespace.append(False)
        i += 1
    while raw_whitespace and raw_whitespace[-1]:
        raw_whitespace.pop()
        chars.pop()
        wildcards.pop()
    return Literal(pos, i, False, "".join(chars), tuple(wildcards))


def _unquoted_escape(text: str, pos: int) -> tuple[str, int]:
    """Decode the escape at ``pos`` (a backslash); return the text and the index after it."""
    if pos + 1 >= len(text):
        raise KqlSyntaxError("expected a character to escape after '\\' but found end of input", pos + 1)
    # Keywords first, so Kibana's escapeKuery output `\not` means "not" and not newline + "ot".
    for keyword in KEYWORDS:
        word = text[pos + 1 : pos + 1 + len(keyword)]
        if word.lower() == keyword:
            return word, pos + 1 + len(keyword)
    following = text[pos + 1]
    if following in _WHITESPACE_ESCAPES:
        return _WHITESPACE_ESCAPES[following], pos + 2
    if following == "u":
        if not _hex4(text, pos + 2):
            raise KqlSyntaxError("expected 4 hexadecimal digits after '\\u'", pos)
        return _unicode_escape(text, pos)
    if following in SPECIAL:
        return following, pos + 2
    raise KqlSyntaxError(
        f"invalid escape '\\{following}': only the special characters \\():<>\"*{{}}, the keywords "
        "and/or/not, \\t, \\r, \\n and \\uXXXX can be escaped (quote the value to keep a backslash)",
        pos,
    )


def _hex4(text: str, pos: int) -> bool:
    digits = text[pos : pos + 4]
    return len(digits) == 4 and all(d in string.hexdigits for d in digits)


def _unicode_escape(text: str, pos: int) -> tuple[str, int]:
    """Decode ``\\uXXXX`` at ``pos``, joining a UTF-16 surrogate pair as JavaScript (Kibana) does."""
    code = int(text[pos + 2 : pos + 6], 16)
    end = pos + 6
    if 0xD800 <= code <= 0xDBFF and text[end : end + 2] == "\\u" and _hex4(text, end + 2):
        low = int(text[end + 2 : end + 6], 16)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), end + 6
    _check_char(chr(code), pos)
    return chr(code), end
