"""Parser unit tests: every construct, precedence, escapes, and precise syntax errors."""

from __future__ import annotations

import pytest

from vigil.kql import (
    And,
    Exists,
    KqlError,
    KqlSyntaxError,
    Match,
    MatchAll,
    Nested,
    Not,
    Or,
    Phrase,
    Range,
    Term,
    parse,
    to_kql,
)
from vigil.kql.parser import MAX_DEPTH


def m(field: str | None, text: str) -> Match:
    return Match(field, Term(text))


def p(field: str | None, text: str) -> Match:
    return Match(field, Phrase(text))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Empty, match-all, field-less values.
        ("", MatchAll()),
        ("  \t\n ", MatchAll()),
        ("*", MatchAll()),
        ("*:*", MatchAll()),
        ("foo", m(None, "foo")),
        ('"foo bar"', p(None, "foo bar")),
        ("foo bar", m(None, "foo bar")),
        ("cannot be", m(None, "cannot be")),  # `not` inside a word is not a keyword
        # field:value
        ("title:foo", m("title", "foo")),
        ("title : foo", m("title", "foo")),
        ("title: foo bar ", m("title", "foo bar")),
        ('title:"incident 42"', p("title", "incident 42")),
        ('"my field":x', m("my field", "x")),
        ("user.name:x", m("user.name", "x")),
        ("or:x", m("or", "x")),  # a keyword followed by ':' is a field name
        ("NOT:x", m("NOT", "x")),
        ("title:inc*", m("title", "inc*")),
        ("title:*dent", m("title", "*dent")),
        ("title:**", m("title", "**")),
        ('title:"*"', p("title", "*")),
        ("title:*", Exists("title")),
        ("title:(*)", Exists("title")),
        ("is_default:true", m("is_default", "true")),
        # Ranges.
        ("score < 5", Range("score", "<", "5")),
        ("score<=5", Range("score", "<=", "5")),
        ("score >5.5", Range("score", ">", "5.5")),
        ('created_at >= "2024-01-01"', Range("created_at", ">=", "2024-01-01")),
        ("created_at >= now-7d/d", Range("created_at", ">=", "now-7d/d")),
        ('score < "1*"', Range("score", "<", "1*")),
        # Nested.
        ('users:{ name: "elastic" }', Nested("users", p("name", "elastic"))),
        ("users:{name:a and id:b}", Nested("users", And((m("name", "a"), m("id", "b"))))),
        ("users : { * }", Nested("users", MatchAll())),
        ("a:{ b:{ c:d } }", Nested("a", Nested("b", m("c", "d")))),
    ],
)
def test_parses_constructs(query: str, expected: object) -> None:
    assert parse(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a:1 or b:2 and c:3", Or((m("a", "1"), And((m("b", "2"), m("c", "3")))))),
        ("a:1 and b:2 or c:3", Or((And((m("a", "1"), m("b", "2"))), m("c", "3")))),
        ("not a:1 and b:2", And((Not(m("a", "1")), m("b", "2")))),
        ("not a:1 or b:2", Or((Not(m("a", "1")), m("b", "2")))),
        ("not (a:1 or b:2)", Not(Or((m("a", "1"), m("b", "2"))))),
        ("not not a:1", Not(Not(m("a", "1")))),
        ("a:1 and (b:2 or c:3)", And((m("a", "1"), Or((m("b", "2"), m("c", "3")))))),
        ("a:1 or b:2 or c:3", Or((m("a", "1"), m("b", "2"), m("c", "3")))),
        ("a:1 AND b:2 Or c:3", Or((And((m("a", "1"), m("b", "2"))), m("c", "3")))),
        ("(a:1 and b:2) and c:3", And((And((m("a", "1"), m("b", "2"))), m("c", "3")))),
        ("((a:1))", m("a", "1")),
        # Kibana requires whitespace around keywords; touching parentheses and quotes is accepted.
        ("not(a:1)", Not(m("a", "1"))),
        ("(a:1)or(b:2)", Or((m("a", "1"), m("b", "2")))),
        ('a:"x"and b:y', And((p("a", "x"), m("b", "y")))),
        ("rock and roll", And((m(None, "rock"), m(None, "roll")))),
    ],
)
def test_precedence(query: str, expected: object) -> None:
    assert parse(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category:(assistant or insights)", Or((m("category", "assistant"), m("category", "insights")))),
        ("a:(b or c and d)", Or((m("a", "b"), And((m("a", "c"), m("a", "d")))))),
        ("a:(not b)", Not(m("a", "b"))),
        ("a:(b and not (c or d))", And((m("a", "b"), Not(Or((m("a", "c"), m("a", "d"))))))),
        ('a:("b c" or d e)', Or((p("a", "b c"), m("a", "d e")))),
        ("a:(b or *)", Or((m("a", "b"), Exists("a")))),
        ("not a:(b or c) and d:e", And((Not(Or((m("a", "b"), m("a", "c")))), m("d", "e")))),
    ],
)
def test_value_lists(query: str, expected: object) -> None:
    assert parse(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (r"a:b\:c", m("a", "b:c")),
        (r"a:\(x\)", m("a", "(x)")),
        (r"a:\{x\}", m("a", "{x}")),
        (r"a:\"x\"", m("a", '"x"')),
        (r"a:x\<y\>z", m("a", "x<y>z")),
        (r"a:x\*", m("a", "x\\*")),  # an escaped star is literal: pattern form keeps it escaped
        (r"a:x\\y", m("a", "x\\\\y")),  # an escaped backslash, likewise
        (r"a:\t\n\r", m("a", "\t\n\r")),
        (r"a:\u00e9t\u00E9", m("a", "été")),
        (r"a:\ud83d\ude00", m("a", "\U0001f600")),  # a UTF-16 surrogate pair, as JavaScript writes it
        (r"a:foo \and bar", m("a", "foo and bar")),
        (r"a:\OR", m("a", "OR")),
        (r"a:\not", m("a", "not")),  # keyword escape wins over `\n` (Kibana's escapeKuery writes `\not`)
        (r"a:\order", m("a", "order")),
        (r"\or", m(None, "or")),
        (r"field\:name:x", m("field:name", "x")),
        (r'a:"q\"uote"', p("a", 'q"uote')),
        (r'a:"back\\slash"', p("a", "back\\slash")),
        (r'a:"\t\u0041"', p("a", "\tA")),
        (r'a:"c:\temp\x"', p("a", "c:\temp\\x")),  # unknown escapes in quotes stay literal, as in Kibana
        ('a:"or and not ( ) : * { }"', p("a", "or and not ( ) : * { }")),
    ],
)
def test_escapes(query: str, expected: object) -> None:
    assert parse(query) == expected


def test_term_pattern_helpers() -> None:
    assert Term("a*b\\*c").segments() == ("a", "b*c")
    assert Term("a*b\\*c").has_wildcard
    assert not Term("a\\*").has_wildcard
    assert Term("a\\*\\\\").value == "a*\\"
    assert Term("c:\\dir").value == "c:\\dir"  # a backslash before anything else is literal
    assert Term.literal("a*\\b") == Term("a\\*\\\\b")
    assert Term.literal("a*\\b").value == "a*\\b"


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("(a:b", 4, "expected ')' to close the '(' at column 0 but found end of input"),
        ("a:b)", 3, "expected 'and', 'or' or end of input but found ')'"),
        ("((a:b)", 6, "expected ')' to close the '(' at column 0"),
        ("a:", 2, "expected a value, '(' or '{' after ':' but found end of input"),
        ("a: ", 3, "after ':' but found end of input"),
        (":b", 0, "expected a field name, value, 'not' or '(' but found ':'"),
        ("a:(b", 4, "expected ')' to close the '(' at column 2 but found end of input"),
        ("a:(b c", 6, "expected ')' to close the '(' at column 2"),
        ("a:()", 3, "expected a value, 'not' or '(' after '(' but found ')'"),
        ("a:(b or)", 7, "after 'or' but found ')'"),
        ("a:{", 3, "after '{' but found end of input"),
        ("a:{}", 3, "after '{' but found '}'"),
        ("a:{b:c", 6, "expected '}' to close the '{' at column 2 but found end of input"),
        ("a:{b:c)", 6, "expected 'and', 'or' or '}' but found ')'"),
        ("a < ", 4, "expected a value after '<' but found end of input"),
        ("a <= (1)", 5, "expected a value after '<=' but found '('"),
        ("a < 1*", 4, "wildcards are not supported in range values"),
        ("and", 0, "found 'and' (to search for the word, quote it or escape it as '\\and')"),
        ("or a:b", 0, "found 'or'"),
        ("a:b or", 6, "after 'or' but found end of input"),
        ("a:b OR ", 7, "after 'or' but found end of input"),
        ("a:b and", 7, "after 'and' but found end of input"),
        ("a:b and or c", 8, "after 'and' but found 'or'"),
        ("not", 3, "after 'not' but found end of input"),
        ("a:b not c:d", 4, "expected 'and', 'or' or end of input but found 'not'"),
        ("a:not b", 2, "after ':' but found 'not'"),
        ("a:or", 2, "after ':' but found 'or'"),
        ('"abc', 4, "expected '\"' to close the quoted string started at column 0 but found end of input"),
        ('a:"abc\\"', 8, "quoted string started at column 2"),
        ("a:b:c", 3, "found ':' (to use it in a value, quote the value or escape it as '\\:')"),
        ("a:b c:d", 5, "found ':'"),
        ('a:"b" c', 6, "expected 'and', 'or' or end of input but found 'c'"),
        ("a:b (c)", 4, "but found '('"),
        ("a:b}", 3, "but found '}'"),
        ("a < b < c", 6, "but found '<'"),
        ("a\\b", 1, "invalid escape '\\b'"),
        ("a:b\\", 4, "expected a character to escape after '\\' but found end of input"),
        ("a:\\u12", 2, "expected 4 hexadecimal digits after '\\u'"),
        ("a:\\ud800", 2, "invalid character U+D800"),
        ("a:b\x00", 3, "invalid character U+0000"),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "nested too deeply"),
        ("not " * (MAX_DEPTH + 1) + "a", 4 * MAX_DEPTH, "nested too deeply"),
        ("a:" + "(" * (MAX_DEPTH + 1) + "b" + ")" * (MAX_DEPTH + 1), 2 + MAX_DEPTH, "nested too deeply"),
    ],
)
def test_syntax_errors(query: str, position: int, fragment: str) -> None:
    with pytest.raises(KqlSyntaxError) as caught:
        parse(query)
    error = caught.value
    assert error.position == position, error.message
    assert fragment in error.message
    assert error.message.startswith(f"KQL syntax error at column {position}: ")
    assert str(error) == error.message
    assert isinstance(error, KqlError)
    assert isinstance(error, ValueError)


def test_deepest_allowed_nesting_parses() -> None:
    depth = MAX_DEPTH
    assert parse("(" * depth + "a:b" + ")" * depth) == m("a", "b")


@pytest.mark.parametrize(
    "query",
    [
        'title:"incident 42" and not is_default:true',
        "a:b or (c:d and not e:*) or users:{ name:x or name:y }",
        r"a:foo\*bar* and b:\and and c < \"5\"",
        'f:"tab\there" or g:x\\ty',
        "created_at >= now-7d and title:*",
    ],
)
def test_printer_round_trips(query: str) -> None:
    node = parse(query)
    assert parse(to_kql(node)) == node


@pytest.mark.parametrize(
    "node",
    [
        Match("a", Term("x\not")),  # `\not` would read as the escaped keyword
        Match("a", Term(" x ")),  # edge spaces would be trimmed
        Match("a", Term("x\t")),
        Match("a", Term("x or")),
        Match("a", Term("not x")),
        Match("a", Term("x AND y")),
        Match(None, Term("or")),
        Match("a", Term("or*")),
        Match("a", Term("\\*\\*")),
        Match("a", Term("\u00e9")),
        Match("a", Phrase('\\t "q"')),
        Exists("*"),
        Range("a b", "<=", ' "x" '),
        Nested("or", Not(MatchAll())),
    ],
)
def test_printer_escapes_edge_cases(node: Match) -> None:
    assert parse(to_kql(node)) == node


def test_printer_output_is_readable() -> None:
    node = parse('title:"incident 42" and not is_default:true or category:(a or b)')
    expected = '(title:"incident 42" and not is_default:true) or (category:a or category:b)'
    assert to_kql(node) == expected
    assert to_kql(Match("a b", Term.literal("x or y*"))) == '"a b":x \\or y\\*'
