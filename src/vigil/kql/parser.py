"""A recursive-descent parser for KQL, the Kibana Query Language.

Grammar (after Kibana's kuery grammar; ``not`` > ``and`` > ``or``, keywords case-insensitive)::

    query     := or_query?                      empty or blank text -> MatchAll
    or_query  := and_query ("or" and_query)*
    and_query := not_query ("and" not_query)*
    not_query := "not" not_query | "(" or_query ")" | expression
    expression:= field ":" "{" or_query "}"     nested
               | field ":" values                match / exists (value `*`)
               | field ("<"|"<="|">"|">=") literal
               | literal                         value in the default fields, or `*` = MatchAll
    values    := "(" or_values ")" | literal     or_values: the same or/and/not shape over values

Differences from Kibana, all so that a mistake is an error instead of a silent literal match:
``and``/``or``/``not`` at the start or end of a value are keywords (``a:b or`` and ``a:or`` are
errors; write ``\\or`` or ``"or"``), and ``not``/``and``/``or`` may touch a parenthesis or quote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .ast import And, Exists, Match, MatchAll, Nested, Node, Not, Or, Phrase, RangeOp, Term
from .ast import Range as RangeNode
from .errors import KqlSyntaxError
from .scanner import Literal, check_characters, keyword_at, scan_quoted, scan_unquoted, skip_whitespace

# Deep enough for any hand-written query, shallow enough to stay far from Python's recursion limit
# in this parser and later in SQLAlchemy's compiler.
MAX_DEPTH = 32

_QUERY_OPERAND = "a field name, value, 'not' or '('"
_LIST_OPERAND = "a value, 'not' or '('"
_RANGE_OPS: tuple[RangeOp, ...] = ("<=", ">=", "<", ">")


def parse(text: str) -> Node:
    """Parse KQL ``text`` into a syntax tree; raises :class:`KqlSyntaxError` on invalid input."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def parse(self) -> Node:
        check_characters(self.text)
        self.pos = skip_whitespace(self.text, 0)
        if self.pos == len(self.text):
            return MatchAll()
        node = self._or_query(None)
        self._close(None, 0)
        return node

    # -- boolean structure ------------------------------------------------------------------

    def _or_query(self, after: str | None) -> Node:
        return self._chain("or", self._and_query, after)

    def _and_query(self, after: str | None) -> Node:
        return self._chain("and", self._not_query, after)

    def _not_query(self, after: str | None) -> Node:
        self.pos = skip_whitespace(self.text, self.pos)
        if keyword_at(self.text, self.pos) == "not":
            with self._deeper(self.pos):
                self.pos += 3
                return Not(self._not_query("'not'"))
        if self._peek() == "(":
            opened_at = self.pos
            self.pos += 1
            with self._deeper(opened_at):
                node = self._or_query("'('")
            self._close(")", opened_at)
            return node
        return self._expression(after)

    def _chain(self, keyword: str, operand: Callable[[str | None], Node], after: str | None) -> Node:
        """``operand (keyword operand)*`` as one flat And/Or node."""
        items = [operand(after)]
        while self._keyword_ahead(keyword):
            items.append(operand(f"'{keyword}'"))
        if len(items) == 1:
            return items[0]
        return Or(tuple(items)) if keyword == "or" else And(tuple(items))

    # -- field expressions --------------------------------------------------------------------

    def _expression(self, after: str | None) -> Node:
        first = self._literal(_QUERY_OPERAND, after)
        next_pos = skip_whitespace(self.text, self.pos)
        following = self.text[next_pos : next_pos + 1]
        if following == ":":
            self.pos = skip_whitespace(self.text, next_pos + 1)
            if self._peek() == "{":
                return self._nested(first.text)
            return self._values(first, "a value, '(' or '{'", "':'")
        if following in ("<", ">"):
            self.pos = next_pos
            return self._range(first.text)
        if first.quoted:
            return Match(None, Phrase(first.text))
        return MatchAll() if first.is_lone_wildcard else Match(None, Term(first.pattern()))

    def _nested(self, path: str) -> Node:
        opened_at = self.pos
        self.pos += 1
        with self._deeper(opened_at):
            query = self._or_query("'{'")
        self._close("}", opened_at)
        return Nested(path, query)

    def _range(self, field: str) -> Node:
        op = next(op for op in _RANGE_OPS if self.text.startswith(op, self.pos))
        self.pos = skip_whitespace(self.text, self.pos + len(op))
        value = self._literal("a value", f"'{op}'")
        if value.has_wildcard:
            raise KqlSyntaxError(
                "wildcards are not supported in range values (quote the value or escape the '*')",
                value.start,
            )
        return RangeNode(field, op, value.text)

    def _values(self, field: Literal, expected: str, after: str) -> Node:
        """A single value or a parenthesised value list such as ``(a or b and not c)``."""
        self.pos = skip_whitespace(self.text, self.pos)
        if self._peek() != "(":
            return self._value_node(field, self._literal(expected, after))
        opened_at = self.pos
        self.pos += 1
        with self._deeper(opened_at):
            node = self._or_values(field, "'('")
        self._close(")", opened_at)
        return node

    def _or_values(self, field: Literal, after: str | None) -> Node:
        return self._chain("or", lambda a: self._and_values(field, a), after)

    def _and_values(self, field: Literal, after: str | None) -> Node:
        return self._chain("and", lambda a: self._not_value(field, a), after)

    def _not_value(self, field: Literal, after: str | None) -> Node:
        self.pos = skip_whitespace(self.text, self.pos)
        if keyword_at(self.text, self.pos) == "not":
            with self._deeper(self.pos):
                self.pos += 3
                return Not(self._not_value(field, "'not'"))
        return self._values(field, _LIST_OPERAND, after or "'('")

    @staticmethod
    def _value_node(field: Literal, value: Literal) -> Node:
        if value.quoted:
            return Match(field.text, Phrase(value.text))
        if value.is_lone_wildcard:
            # `*:*` is Kibana's match-all; `field:*` means the field exists.
            return MatchAll() if field.is_lone_wildcard else Exists(field.text)
        return Match(field.text, Term(value.pattern()))

    # -- tokens -------------------------------------------------------------------------------

    def _literal(self, expected: str, after: str | None) -> Literal:
        """A quoted or unquoted literal at the current position, or a syntax error."""
        self.pos = skip_whitespace(self.text, self.pos)
        if self._peek() == '"':
            literal = scan_quoted(self.text, self.pos)
        elif keyword_at(self.text, self.pos) is not None:
            raise self._unexpected(expected, after)
        else:
            literal = scan_unquoted(self.text, self.pos)
            if literal.end == self.pos:
                raise self._unexpected(expected, after)
        self.pos = literal.end
        return literal

    def _keyword_ahead(self, keyword: str) -> bool:
        """Consume ``keyword`` (after optional whitespace) if it comes next."""
        start = skip_whitespace(self.text, self.pos)
        if keyword_at(self.text, start) != keyword:
            return False
        self.pos = start + len(keyword)
        return True

    def _close(self, closer: str | None, opened_at: int) -> None:
        """Expect the end of a group: ``closer`` or, at the top level (None), the end of input."""
        self.pos = skip_whitespace(self.text, self.pos)
        if closer is None:
            if self.pos < len(self.text):
                raise self._unexpected("'and', 'or' or end of input", None)
        elif self._peek() == closer:
            self.pos += 1
        elif self.pos == len(self.text):
            opener = "(" if closer == ")" else "{"
            raise KqlSyntaxError(
                f"expected '{closer}' to close the '{opener}' at column {opened_at} but found end of input",
                self.pos,
            )
        else:
            raise self._unexpected(f"'and', 'or' or '{closer}'", None)

    def _peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _unexpected(self, expected: str, after: str | None) -> KqlSyntaxError:
        where = f" after {after}" if after else ""
        return KqlSyntaxError(f"expected {expected}{where} but found {self._found()}", self.pos)

    def _found(self) -> str:
        if self.pos >= len(self.text):
            return "end of input"
        keyword = keyword_at(self.text, self.pos)
        if keyword is not None:
            word = self.text[self.pos : self.pos + len(keyword)]
            return f"'{word}' (to search for the word, quote it or escape it as '\\{word}')"
        char = self.text[self.pos]
        if char in ":<>":
            return f"'{char}' (to use it in a value, quote the value or escape it as '\\{char}')"
        return repr(char)

    @contextmanager
    def _deeper(self, start: int) -> Iterator[None]:
        """Count one level of nesting begun at ``start``, refusing too many."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise KqlSyntaxError(f"query is nested too deeply (more than {MAX_DEPTH} levels)", start)
        try:
            yield
        finally:
            self.depth -= 1
