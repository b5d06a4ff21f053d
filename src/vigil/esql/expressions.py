"""Token cursor and the ES|QL expression grammar (recursive descent).

Precedence, loosest first, as in EsqlBaseParser.g4: OR < AND < NOT < predicates (IN, LIKE,
RLIKE, IS NULL, ``:``) < comparison (non-associative) < + - < * / % < unary - < ``::`` < primary.
"""

from __future__ import annotations

from typing import TypeVar

from vigil.esql import ast
from vigil.esql.errors import EsqlParsingError
from vigil.esql.lexer import Kind, Token

N = TypeVar("N", bound=ast.Node)

MAX_NESTING = 40
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
# Words that cannot start a field reference or be a unit, because they continue an expression
# or a command (ES lexes them as keywords in expression mode).
RESERVED = frozenset(
    {"and", "or", "not", "in", "is", "like", "rlike", "null", "true", "false"}
    | {"asc", "desc", "nulls", "first", "last", "by", "as", "on", "with", "where"}
)

# Only these words can never name a function: `NOT (a)` and `x IN (1)` are operators.
_OPERATOR_WORDS = frozenset({"and", "or", "not", "in", "is", "like", "rlike", "null", "true", "false"})


def describe(token: Token) -> str:
    """A token as Elasticsearch quotes it in messages."""
    return "'<EOF>'" if token.kind is Kind.EOF else f"'{token.text}'"


class Cursor:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    @property
    def previous(self) -> Token:
        return self.tokens[self.index - 1]

    def advance(self) -> Token:
        token = self.current
        if token.kind is not Kind.EOF:
            self.index += 1
        return token

    def at_op(self, *ops: str, token: Token | None = None) -> bool:
        token = token or self.current
        return token.kind is Kind.OP and token.text in ops

    def at_word(self, *words: str, token: Token | None = None) -> bool:
        token = token or self.current
        return token.kind is Kind.IDENT and token.text.lower() in words

    def at_name(self) -> bool:
        """Whether the current token can start a field name (an identifier, not a keyword)."""
        token = self.current
        if token.kind is Kind.QUOTED_IDENT:
            return True
        return token.kind is Kind.IDENT and token.text.lower() not in RESERVED

    def accept_op(self, op: str) -> Token | None:
        return self.advance() if self.at_op(op) else None

    def accept_word(self, word: str) -> Token | None:
        return self.advance() if self.at_word(word) else None

    def spanned(self, node: N, start: int) -> N:
        """Record the source span of ``node``: from offset ``start`` to the end of the last token read."""
        last = self.previous
        object.__setattr__(node, "start", start)
        object.__setattr__(node, "end", last.offset + len(last.text))
        return node

    def error(self, message: str, token: Token | None = None) -> EsqlParsingError:
        token = token or self.current
        return EsqlParsingError(message, token.line, token.column)

    def expected(self, what: str) -> EsqlParsingError:
        """``expected <what> after '<previous>' but found '<current>'``."""
        return self.error(f"expected {what} after '{self.previous.text}' but found {describe(self.current)}")

    def expect_op(self, op: str, what: str | None = None) -> Token:
        if not self.at_op(op):
            raise self.expected(what or f"'{op}'")
        return self.advance()

    def expect_word(self, word: str) -> Token:
        if not self.at_word(word):
            raise self.expected(f"'{word.upper()}'")
        return self.advance()


class ExpressionParser(Cursor):
    depth = 0

    def expression(self) -> ast.Expr:
        # Bound nesting so hostile input fails with a parsing error, not a RecursionError.
        if self.depth >= MAX_NESTING:
            raise self.error(f"expression nested too deeply (more than {MAX_NESTING} levels)")
        self.depth += 1
        try:
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> ast.Expr:
        start = self.current.offset
        left = self.and_expr()
        while self.accept_word("or"):
            left = self.spanned(ast.BinaryOp("OR", left, self.and_expr(), line=left.line, column=left.column), start)
        return left

    def and_expr(self) -> ast.Expr:
        start = self.current.offset
        left = self.not_expr()
        while self.accept_word("and"):
            left = self.spanned(ast.BinaryOp("AND", left, self.not_expr(), line=left.line, column=left.column), start)
        return left

    def not_expr(self) -> ast.Expr:
        # Prefix operators are collected in a loop (not recursion) so long chains cannot overflow.
        nots = []
        while op := self.accept_word("not"):
            nots.append(op)
        expr = self.predicate()
        for op in reversed(nots):
            expr = self.spanned(ast.UnaryOp("NOT", expr, line=op.line, column=op.column), op.offset)
        return expr

    def predicate(self) -> ast.Expr:
        start = self.current.offset
        value = self.comparison()
        pos = {"line": value.line, "column": value.column}
        negated = False
        if self.at_word("not") and self.at_word("in", "like", "rlike", token=self.peek()):
            self.advance()
            negated = True
        if self.accept_word("in"):
            self.expect_op("(")
            items = [self.comparison()]
            while self.accept_op(","):
                items.append(self.comparison())
            self.expect_op(")", "',' or ')'")
            return self.spanned(ast.InList(value, tuple(items), negated, **pos), start)
        if word := self.accept_word("like") or self.accept_word("rlike"):
            cls = ast.Like if word.text.lower() == "like" else ast.RLike
            if self.current.kind is Kind.STRING and not self.at_op("+", "-", "*", "/", "%", "::", token=self.peek()):
                pattern = str(self.advance().value)
                return self.spanned(cls(value, pattern, negated, line=value.line, column=value.column), start)
            # A list of patterns `LIKE ("a*", "b*")` or a constant expression as the pattern.
            if self.accept_op("("):
                patterns = [self.expression()]
                while self.accept_op(","):
                    patterns.append(self.expression())
                self.expect_op(")", "',' or ')'")
            else:
                patterns = [self.additive()]
            node = cls(value, "", negated, tuple(patterns), line=value.line, column=value.column)
            return self.spanned(node, start)
        if self.accept_word("is"):
            negated = self.accept_word("not") is not None
            if not self.accept_word("null"):
                raise self.expected("'NULL'")
            return self.spanned(ast.IsNull(value, negated, **pos), start)
        if self.at_op(":"):
            if not isinstance(value, ast.FieldRef | ast.Cast):
                raise self.error("the match operator ':' must follow a field name")
            self.advance()
            return self.spanned(ast.Match(value, self.cast(), **pos), start)
        return value

    def comparison(self) -> ast.Expr:
        start = self.current.offset
        left = self.additive()
        if self.at_op(*COMPARISONS):
            op = self.advance()
            right = self.additive()
            left = self.spanned(ast.BinaryOp(op.text, left, right, line=left.line, column=left.column), start)
            if self.at_op(*COMPARISONS):
                # ES|QL comparisons do not chain: `a < b < c` is a syntax error.
                raise self.error(f"mismatched input '{self.current.text}': comparisons cannot be chained")
        return left

    def additive(self) -> ast.Expr:
        start = self.current.offset
        left = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.advance()
            right = self.multiplicative()
            left = self.spanned(ast.BinaryOp(op.text, left, right, line=left.line, column=left.column), start)
        return left

    def multiplicative(self) -> ast.Expr:
        start = self.current.offset
        left = self.unary()
        while self.at_op("*", "/", "%"):
            op = self.advance()
            right = self.unary()
            left = self.spanned(ast.BinaryOp(op.text, left, right, line=left.line, column=left.column), start)
        return left

    def unary(self) -> ast.Expr:
        signs = []
        while self.at_op("-", "+"):
            signs.append(self.advance())
        expr = self.cast()
        for op in reversed(signs):
            if op.text == "+":
                continue
            # Fold `-1` into a negative literal, as Elasticsearch's expression builder does.
            if isinstance(expr, ast.Literal) and isinstance(expr.value, int | float) and expr.kind != "boolean":
                expr = self.spanned(ast.Literal(-expr.value, expr.kind, line=op.line, column=op.column), op.offset)
            else:
                expr = self.spanned(ast.UnaryOp("-", expr, line=op.line, column=op.column), op.offset)
        return expr

    def cast(self) -> ast.Expr:
        start = self.current.offset
        value = self.primary()
        while self.accept_op("::"):
            if self.current.kind is not Kind.IDENT:
                raise self.expected("a data type")
            type_name = self.advance().text.lower()
            value = self.spanned(ast.Cast(value, type_name, line=value.line, column=value.column), start)
        return value

    def primary(self) -> ast.Expr:
        start = self.current.offset
        expr = self._primary()
        # A parenthesized expression keeps the span of its content, as in Elasticsearch.
        return expr if expr.start >= 0 else self.spanned(expr, start)

    def _primary(self) -> ast.Expr:
        token = self.current
        pos = {"line": token.line, "column": token.column}
        kind = token.kind
        if kind is Kind.INTEGER:
            self.advance()
            unit = self.current
            if unit.kind is Kind.IDENT and unit.text.lower() not in RESERVED:
                self.advance()  # `1 hour`: a qualified integer literal
                return ast.QualifiedLiteral(int(token.value), unit.text, **pos)  # type: ignore[call-overload]
            return ast.Literal(token.value, "integer", **pos)
        if kind in (Kind.DECIMAL, Kind.STRING):
            self.advance()
            return ast.Literal(token.value, "decimal" if kind is Kind.DECIMAL else "string", **pos)
        if kind is Kind.PARAM:
            self.advance()
            return ast.Param(token.value, **pos)  # type: ignore[arg-type]
        if self.at_op("("):
            self.advance()
            inner = self.expression()
            if not self.at_op(")"):
                raise self.error(
                    f"expected ')' to close '(' at line {token.line}:{token.column} but found {describe(self.current)}"
                )
            self.advance()
            return inner
        if self.at_op("["):
            return self.list_literal()
        if kind is Kind.IDENT:
            word = token.text.lower()
            if word == "null":
                self.advance()
                return ast.Literal(None, "null", **pos)
            if word in ("true", "false"):
                self.advance()
                return ast.Literal(word == "true", "boolean", **pos)
            if word not in _OPERATOR_WORDS and self.at_op("(", token=self.peek()):
                return self.function_call()
        if self.at_name():
            return ast.FieldRef(self.qualified_name(), **pos)
        raise self.expected("an expression")

    def function_call(self) -> ast.FunctionCall:
        name = self.advance()
        pos = {"line": name.line, "column": name.column, "text": name.text}
        self.advance()  # '('
        if self.at_op("*") and self.at_op(")", token=self.peek()):
            self.advance()
            self.advance()
            return ast.FunctionCall(name.text.lower(), (), True, **pos)  # type: ignore[arg-type]
        args: list[ast.Expr] = []
        if not self.at_op(")"):
            args.append(self.expression())
            while self.accept_op(","):
                args.append(self.expression())
        if not self.at_op(")"):
            raise self.error(
                f"expected ',' or ')' in the arguments of {name.text}() but found {describe(self.current)}"
            )
        self.advance()
        return ast.FunctionCall(name.text.lower(), tuple(args), **pos)  # type: ignore[arg-type]

    def list_literal(self) -> ast.ListLiteral:
        start = self.advance()
        items: list[ast.Literal] = []
        if not self.at_op("]"):
            items.append(self.list_item())
            while self.accept_op(","):
                items.append(self.list_item())
        self.expect_op("]", "',' or ']'")
        kinds = {"integer" if i.kind == "decimal" else i.kind for i in items}
        if len(kinds) > 1:
            raise self.error("multi-value literals must not mix types", start)
        return ast.ListLiteral(tuple(items), line=start.line, column=start.column)

    def list_item(self) -> ast.Literal:
        # Only constants may appear in [ ... ]: numbers (optionally signed), booleans, strings.
        start = self.current
        if self.at_op("["):
            raise self.error("multi-value literals cannot be nested")
        item = self.unary()
        if isinstance(item, ast.Literal) and item.kind != "null":
            return item
        raise self.error(
            f"expected a number, boolean or string constant in a multi-value literal but found {describe(start)}",
            start,
        )

    def identifier(self) -> str:
        if self.at_name():
            return str(self.advance().value)
        raise self.expected("an identifier")

    def qualified_name(self) -> str:
        """``a.b.c`` (parts may be backquoted); returns the dotted name."""
        parts = [self.identifier()]
        while self.accept_op("."):
            parts.append(self.identifier())
        return ".".join(parts)

    def at_assignment(self) -> bool:
        """Whether a ``name =`` prefix starts here (looks ahead over a dotted name)."""
        ahead = 0
        while True:
            token = self.peek(ahead)
            if token.kind not in (Kind.IDENT, Kind.QUOTED_IDENT):
                return False
            following = self.peek(ahead + 1)
            if self.at_op("=", token=following):
                return True
            if not self.at_op(".", token=following):
                return False
            ahead += 2
