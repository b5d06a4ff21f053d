"""ES|QL parser: ``parse(text) -> Query``, one method per command of EsqlBaseParser.g4."""

from __future__ import annotations

from collections.abc import Callable

from vigil.esql import ast
from vigil.esql.expressions import ExpressionParser, describe
from vigil.esql.lexer import Kind, tokenize

SOURCE_COMMANDS = ("from", "row", "show")
PROCESSING_COMMANDS = (
    "dissect",
    "drop",
    "enrich",
    "eval",
    "grok",
    "keep",
    "limit",
    "lookup",
    "mv_expand",
    "rename",
    "sort",
    "stats",
    "where",
)


def parse(query: str) -> ast.Query:
    """Parse ES|QL text into a Query; raises EsqlParsingError with Elasticsearch-style position."""
    return _Parser(query).query()


def _expecting(names: tuple[str, ...]) -> str:
    return "{" + ", ".join(f"'{name}'" for name in names) + "}"


class _Parser(ExpressionParser):
    def __init__(self, text: str) -> None:
        super().__init__(tokenize(text))
        self.processing: dict[str, Callable[[], ast.ProcessingCommand]] = {
            "dissect": self.dissect,
            "drop": lambda: ast.Drop(self.patterns(), **self.pos),
            "enrich": self.enrich,
            "eval": lambda: ast.Eval(self.fields(), **self.pos),
            "grok": self.grok,
            "keep": lambda: ast.Keep(self.patterns(), **self.pos),
            "limit": self.limit,
            "lookup": self.lookup_join,
            "mv_expand": lambda: ast.MvExpand(self.qualified_name(), **self.pos),
            "rename": self.rename,
            "sort": self.sort,
            "stats": self.stats,
            "where": lambda: ast.Where(self.required_expression(), **self.pos),
        }
        self.pos: dict[str, int] = {}

    def query(self) -> ast.Query:
        source = self.source_command()
        commands: list[ast.ProcessingCommand] = []
        while self.accept_op("|"):
            commands.append(self.processing_command())
        if self.current.kind is not Kind.EOF:
            # A lone '=' where a condition continues is almost always a mistyped '=='.
            hint = " (use '==' to compare values)" if self.at_op("=") else ""
            raise self.error(f"extraneous input {describe(self.current)} expecting '|' or end of query{hint}")
        return ast.Query(source, tuple(commands), line=source.line, column=source.column)

    def command_keyword(self, known: tuple[str, ...]) -> str:
        token = self.current
        word = token.text.lower() if token.kind is Kind.IDENT else ""
        if word not in known:
            raise self.error(f"mismatched input {describe(token)} expecting {_expecting(known)}")
        self.advance()
        self.pos = {"line": token.line, "column": token.column}
        return word

    def source_command(self) -> ast.SourceCommand:
        word = self.command_keyword(SOURCE_COMMANDS)
        if word == "from":
            return self.from_command()
        if word == "row":
            return ast.Row(self.fields(), **self.pos)
        if self.current.kind is not Kind.IDENT or self.current.text.lower() != "info":
            raise self.expected("'INFO'")
        self.advance()
        return ast.Show("INFO", **self.pos)

    def processing_command(self) -> ast.ProcessingCommand:
        return self.processing[self.command_keyword(PROCESSING_COMMANDS)]()

    # --- source names ----------------------------------------------------------------------

    def index_pattern(self) -> ast.IndexPattern:
        token = self.current
        line, column = token.line, token.column
        if token.kind is Kind.STRING:
            self.advance()
            return ast.IndexPattern(str(token.value), line=line, column=column)
        if token.kind is not Kind.SOURCE:
            raise self.expected("an index pattern")
        self.advance()
        if self.at_op(":") and self.peek().kind in (Kind.SOURCE, Kind.STRING):
            self.advance()  # `cluster:index` remote-cluster prefix
            index = self.advance()
            return ast.IndexPattern(str(index.value), token.text, line=line, column=column)
        return ast.IndexPattern(token.text, line=line, column=column)

    def from_command(self) -> ast.From:
        pos = self.pos
        sources = [self.index_pattern()]
        while self.accept_op(","):
            sources.append(self.index_pattern())
        metadata: list[str] = []
        if self.current.kind is Kind.SOURCE and self.current.text.lower() == "metadata":
            self.advance()
            metadata.append(self.metadata_field())
            while self.accept_op(","):
                metadata.append(self.metadata_field())
        return ast.From(tuple(sources), tuple(metadata), **pos)

    def metadata_field(self) -> str:
        if self.current.kind is not Kind.SOURCE:
            raise self.expected("a metadata field name")
        return self.advance().text

    # --- fields and patterns ----------------------------------------------------------------

    def required_expression(self) -> ast.Expr:
        if self.at_op("|") or self.current.kind is Kind.EOF:
            raise self.expected("an expression")
        return self.expression()

    def field(self) -> ast.Field:
        token = self.current
        name = None
        if self.at_assignment():
            name = self.qualified_name()
            self.advance()  # '='
        expr = self.required_expression()
        return self.spanned(ast.Field(name, expr, line=token.line, column=token.column), token.offset)

    def fields(self) -> tuple[ast.Field, ...]:
        result = [self.field()]
        while self.accept_op(","):
            result.append(self.field())
        return tuple(result)

    def pattern(self) -> str:
        if self.at_name():
            return self.qualified_name()
        raise self.expected("a field name or pattern")

    def patterns(self) -> tuple[str, ...]:
        result = [self.pattern()]
        while self.accept_op(","):
            result.append(self.pattern())
        return tuple(result)

    # --- processing commands -----------------------------------------------------------------

    def stats(self) -> ast.Stats:
        pos = self.pos
        aggregates: list[ast.AggregateField] = []
        if not self.at_word("by"):
            if self.at_op("|") or self.current.kind is Kind.EOF:
                raise self.expected("an aggregate or 'BY'")
            aggregates.append(self.aggregate())
            while self.accept_op(","):
                aggregates.append(self.aggregate())
        by: tuple[ast.Field, ...] = ()
        if self.accept_word("by"):
            by = self.fields()
        return ast.Stats(tuple(aggregates), by, **pos)

    def aggregate(self) -> ast.AggregateField:
        field = self.field()
        where = self.required_expression() if self.accept_word("where") else None
        aggregate = ast.AggregateField(field.name, field.expr, where, line=field.line, column=field.column)
        return self.spanned(aggregate, field.start)

    def sort(self) -> ast.Sort:
        pos = self.pos
        keys = [self.sort_key()]
        while self.accept_op(","):
            keys.append(self.sort_key())
        return ast.Sort(tuple(keys), **pos)

    def sort_key(self) -> ast.SortKey:
        token = self.current
        expr = self.required_expression()
        order = self.advance().text.upper() if self.at_word("asc", "desc") else None
        nulls = None
        if self.accept_word("nulls"):
            if not self.at_word("first", "last"):
                raise self.expected("'FIRST' or 'LAST'")
            nulls = self.advance().text.upper()
        return ast.SortKey(expr, order, nulls, line=token.line, column=token.column)

    def limit(self) -> ast.Limit:
        token = self.current
        if token.kind is not Kind.INTEGER:
            raise self.error(f"mismatched input {describe(token)} expecting a non-negative integer for LIMIT")
        self.advance()
        return ast.Limit(int(token.value), **self.pos)  # type: ignore[call-overload]

    def rename(self) -> ast.Rename:
        pos = self.pos
        clauses = [self.rename_clause()]
        while self.accept_op(","):
            clauses.append(self.rename_clause())
        return ast.Rename(tuple(clauses), **pos)

    def rename_clause(self) -> ast.RenameClause:
        token = self.current
        first = self.pattern()
        if self.accept_op("="):  # newer `new = old` form
            return ast.RenameClause(self.pattern(), first, line=token.line, column=token.column)
        self.expect_word("as")
        return ast.RenameClause(first, self.pattern(), line=token.line, column=token.column)

    def string_pattern(self, command: str) -> str:
        if self.current.kind is not Kind.STRING:
            raise self.expected(f"a {command} pattern string")
        return str(self.advance().value)

    def dissect(self) -> ast.Dissect:
        pos = self.pos
        source = self.cast()
        pattern = self.string_pattern("DISSECT")
        separator = None
        while self.current.kind is Kind.IDENT and self.at_op("=", token=self.peek()):
            option = self.advance()
            self.advance()
            if option.text.lower() != "append_separator":
                raise self.error(f"Invalid option for dissect: [{option.text}]", option)
            value = self.current
            if value.kind is not Kind.STRING:
                raise self.error(
                    f"Invalid value for dissect append_separator: expected a string, but was [{value.text}]"
                )
            separator = str(self.advance().value)
            if not self.accept_op(","):
                break
        return ast.Dissect(source, pattern, separator, **pos)

    def grok(self) -> ast.Grok:
        pos = self.pos
        source = self.cast()
        pattern = self.string_pattern("GROK")
        more: list[str] = []
        while self.accept_op(","):
            more.append(self.string_pattern("GROK"))
        return ast.Grok(source, pattern, tuple(more), **pos)

    def lookup_join(self) -> ast.LookupJoin:
        pos = self.pos
        self.expect_word("join")
        index = self.index_pattern()
        self.expect_word("on")
        first = self.qualified_name()
        if self.accept_op("=="):
            # The expression form: `ON left == right [AND left2 == right2...]`.
            pairs = [(first, self.qualified_name())]
            while self.accept_word("and"):
                left = self.qualified_name()
                self.expect_op("==")
                pairs.append((left, self.qualified_name()))
            return ast.LookupJoin(index, tuple(left for left, _ in pairs), tuple(r for _, r in pairs), **pos)
        on = [first]
        while self.accept_op(","):
            on.append(self.qualified_name())
        return ast.LookupJoin(index, tuple(on), (), **pos)

    def enrich(self) -> ast.Enrich:
        pos = self.pos
        token = self.current
        if token.kind is not Kind.SOURCE:
            raise self.expected("an enrich policy name")
        policy = self.advance().text
        if self.accept_op(":"):  # `_any:policy` mode prefix
            if self.current.kind is not Kind.SOURCE:
                raise self.expected("an enrich policy name")
            policy += ":" + self.advance().text
        on = self.pattern() if self.accept_word("on") else None
        with_fields: list[ast.EnrichWith] = []
        if self.accept_word("with"):
            with_fields.append(self.enrich_with())
            while self.accept_op(","):
                with_fields.append(self.enrich_with())
        return ast.Enrich(policy, on, tuple(with_fields), **pos)

    def enrich_with(self) -> ast.EnrichWith:
        token = self.current
        first = self.pattern()
        if self.accept_op("="):
            return ast.EnrichWith(first, self.pattern(), line=token.line, column=token.column)
        return ast.EnrichWith(None, first, line=token.line, column=token.column)
