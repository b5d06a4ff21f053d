"""ES|QL lexer: turns query text into positioned tokens.

Like Elasticsearch's ANTLR lexer it is modal: after ``FROM``, ``LOOKUP JOIN`` and ``ENRICH``
source names are lexed as "unquoted source" tokens that may contain ``-``, ``*``, ``.`` and
friends (``logs-*``, ``.alerts-security.alerts-default``); after ``KEEP``, ``DROP`` and
``RENAME`` identifiers may contain ``*`` wildcards. A ``|`` always returns to expression mode.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum

from vigil.esql.errors import EsqlParsingError


class Kind(Enum):
    IDENT = "identifier"
    QUOTED_IDENT = "quoted identifier"
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    PARAM = "parameter"
    OP = "operator"
    SOURCE = "source"
    EOF = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # exactly as written in the query
    value: object  # decoded value: str for strings/identifiers, int/float for numbers
    line: int
    column: int
    offset: int


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\"}
_TWO_CHAR_OPS = ("==", "!=", "<=", ">=", "::")
_ONE_CHAR_OPS = set("=<>+-*/%()[],.:{}")
# Characters that end an unquoted source name (ANTLR's UNQUOTED_SOURCE_PART complement).
_SOURCE_STOP = set(':"=|,[]/ \t\r\n')
_ID_BODY = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_LETTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = set("0123456789")

_EXPR, _SOURCE, _PATTERN = "expr", "source", "pattern"
# In source mode these words hand back to expression mode (e.g. ``LOOKUP JOIN idx ON f``).
_SOURCE_EXITS = {"join": {"on"}, "enrich": {"on", "with"}, "from": set()}


def tokenize(text: str) -> list[Token]:
    """Lex ``text``; the last token is always EOF. Raises EsqlParsingError on bad input."""
    return _Lexer(text).run()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def fail(self, message: str, offset: int) -> EsqlParsingError:
        line, column = self.position(offset)
        return EsqlParsingError(message, line, column)

    def emit(self, kind: Kind, start: int, value: object) -> Token:
        line, column = self.position(start)
        token = Token(kind, self.text[start : self.pos], value, line, column, start)
        self.tokens.append(token)
        return token

    def run(self) -> list[Token]:
        mode = _EXPR
        exits: set[str] = set()
        command_start = True
        after_lookup = False
        while True:
            self.skip_blanks()
            start = self.pos
            if self.pos >= len(self.text):
                self.emit(Kind.EOF, start, None)
                return self.tokens
            if self.text[start] == "|":
                self.pos += 1
                self.emit(Kind.OP, start, "|")
                mode, command_start, after_lookup = _EXPR, True, False
                continue
            if mode == _SOURCE:
                token = self.source_token()
                if token.kind is Kind.SOURCE and token.text.lower() in exits:
                    # Re-label the exit keyword so the parser sees an ordinary identifier.
                    self.tokens[-1] = Token(Kind.IDENT, token.text, token.text, token.line, token.column, start)
                    mode = _EXPR
                continue
            token = self.expr_token(wildcards=mode == _PATTERN)
            word = token.text.lower() if token.kind is Kind.IDENT else ""
            if after_lookup and word == "join":
                mode, exits = _SOURCE, _SOURCE_EXITS["join"]
            elif command_start and word in ("from", "enrich"):
                mode, exits = _SOURCE, _SOURCE_EXITS[word]
            elif command_start and word in ("keep", "drop", "rename"):
                mode = _PATTERN
            after_lookup = command_start and word == "lookup"
            command_start = False

    def skip_blanks(self) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\r\n":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                self.skip_block_comment()
            else:
                return

    def skip_block_comment(self) -> None:
        # ES|QL block comments nest, as in the ANTLR grammar.
        start, depth = self.pos, 0
        while self.pos < len(self.text):
            if self.text.startswith("/*", self.pos):
                depth += 1
                self.pos += 2
            elif self.text.startswith("*/", self.pos):
                depth -= 1
                self.pos += 2
                if depth == 0:
                    return
            else:
                self.pos += 1
        raise self.fail("unterminated block comment", start)

    def source_token(self) -> Token:
        start, text = self.pos, self.text
        ch = text[start]
        if ch == '"':
            return self.string()
        if ch in _SOURCE_STOP:
            self.pos += 1
            return self.emit(Kind.OP, start, ch)
        while self.pos < len(text):
            ch = text[self.pos]
            # A lone '/' is allowed (date-math index names); '//' and '/*' start comments.
            if ch == "/" and self.pos + 1 < len(text) and text[self.pos + 1] not in "/*":
                self.pos += 1
                continue
            if ch in _SOURCE_STOP:
                break
            self.pos += 1
        return self.emit(Kind.SOURCE, start, text[start : self.pos])

    def expr_token(self, wildcards: bool) -> Token:
        start, text = self.pos, self.text
        ch = text[start]
        nxt = text[start + 1] if start + 1 < len(text) else ""
        if ch in _LETTERS or ch in "_@" or (wildcards and ch == "*"):
            return self.identifier(wildcards)
        if ch in _DIGITS or (ch == "." and nxt in _DIGITS):
            return self.number()
        if ch == "`":
            return self.quoted_identifier()
        if ch == '"':
            return self.string()
        if ch == "?":
            return self.param()
        if text.startswith(_TWO_CHAR_OPS, start):
            self.pos += 2
            return self.emit(Kind.OP, start, text[start : self.pos])
        if ch in _ONE_CHAR_OPS:
            self.pos += 1
            return self.emit(Kind.OP, start, ch)
        raise self.fail(f"token recognition error at: '{ch}'", start)

    def identifier(self, wildcards: bool) -> Token:
        start, text = self.pos, self.text
        body = _ID_BODY | {"*"} if wildcards else _ID_BODY
        self.pos += 1
        while self.pos < len(text) and text[self.pos] in body:
            self.pos += 1
        # Like ES, '_' and '@' may only start an identifier that has more characters.
        if text[start] in "_@" and self.pos == start + 1:
            raise self.fail(f"token recognition error at: '{text[start]}'", start)
        return self.emit(Kind.IDENT, start, text[start : self.pos])

    def number(self) -> Token:
        text, start = self.text, self.pos
        self.skip_digits()
        decimal = False
        if self.pos < len(text) and text[self.pos] == ".":
            self.pos += 1
            self.skip_digits()
            decimal = True
        if self.pos < len(text) and text[self.pos] in "eE":
            mark = self.pos
            self.pos += 1
            if self.pos < len(text) and text[self.pos] in "+-":
                self.pos += 1
            if self.pos < len(text) and text[self.pos] in _DIGITS:
                self.skip_digits()
                decimal = True
            else:
                self.pos = mark  # not an exponent: "2e" could be 2 followed by a unit
        raw = text[start : self.pos]
        if decimal:
            return self.emit(Kind.DECIMAL, start, float(raw))
        return self.emit(Kind.INTEGER, start, int(raw))

    def skip_digits(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _DIGITS:
            self.pos += 1

    def quoted_identifier(self) -> Token:
        start, text = self.pos, self.text
        parts: list[str] = []
        self.pos += 1
        while True:
            end = text.find("`", self.pos)
            if end < 0:
                raise self.fail("unterminated quoted identifier", start)
            parts.append(text[self.pos : end])
            self.pos = end + 1
            if text.startswith("`", self.pos):  # `` is an escaped backquote
                parts.append("`")
                self.pos += 1
                continue
            return self.emit(Kind.QUOTED_IDENT, start, "".join(parts))

    def string(self) -> Token:
        start, text = self.pos, self.text
        if text.startswith('"""', start):
            # Triple-quoted: no escapes, no line breaks; up to two extra quotes join the value.
            end = text.find('"""', start + 3)
            if end < 0 or "\n" in text[start:end] or "\r" in text[start:end]:
                raise self.fail("unterminated string literal", start)
            self.pos = end + 3
            extra = 0
            while extra < 2 and text.startswith('"', self.pos):
                self.pos += 1
                extra += 1
            return self.emit(Kind.STRING, start, text[start + 3 : end] + '"' * extra)
        chars: list[str] = []
        self.pos += 1
        while True:
            if self.pos >= len(text) or text[self.pos] in "\r\n":
                raise self.fail("unterminated string literal", start)
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return self.emit(Kind.STRING, start, "".join(chars))
            if ch == "\\":
                escaped = text[self.pos + 1 : self.pos + 2]
                if escaped not in _ESCAPES:
                    if not escaped or escaped in "\r\n":
                        raise self.fail("unterminated string literal", start)
                    raise self.fail(
                        f"invalid escape sequence '\\{escaped}' in string literal "
                        '(valid escapes are \\t \\n \\r \\" \\\\)',
                        self.pos,
                    )
                chars.append(_ESCAPES[escaped])
                self.pos += 2
                continue
            chars.append(ch)
            self.pos += 1

    def param(self) -> Token:
        start, text = self.pos, self.text
        self.pos += 1
        if self.pos < len(text) and (text[self.pos] in _LETTERS or text[self.pos] in "_@"):
            while self.pos < len(text) and text[self.pos] in _ID_BODY | {"@"}:
                self.pos += 1
        elif self.pos < len(text) and text[self.pos] in _DIGITS:
            self.skip_digits()
        name = text[start + 1 : self.pos] or None
        return self.emit(Kind.PARAM, start, name)
