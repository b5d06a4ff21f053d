"""Property tests: printer/parser round trips, and no input escapes as anything but KqlError."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kql.sample_db import DATABASE_URL, SampleDb, sample_db
from vigil.kql import (
    And,
    Exists,
    KqlError,
    Match,
    MatchAll,
    Nested,
    Node,
    Not,
    Or,
    Phrase,
    Range,
    Term,
    parse,
    to_kql,
    to_sql,
)

# Any character a query may hold (the parser rejects NUL and lone surrogates up front).
CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
# Characters that stress the escaping rules, mixed with ordinary ones.
TRICKY = st.sampled_from([*' \t\r\n\u00a0\u2003\\"():<>*{}?%_.-', "or", "and", "not", "\not", "\\not"])
# Space-separated words, so keywords land where the scanner would read them as operators.
WORDS = st.lists(st.sampled_from(["or", "AND", "not", "Not", "foo", "x:y", " ", "\n", "\t"]), max_size=5).map(" ".join)
TEXT = st.one_of(st.lists(st.one_of(CHARS, TRICKY), max_size=8).map("".join), WORDS)

field_names = st.one_of(st.sampled_from(["a", "title", "users.name", "or", "NOT", "x y", "*", ""]), TEXT)


@st.composite
def terms(draw: st.DrawFn) -> Term:
    """A non-empty pattern: literal text and unescaped wildcards, never a lone ``*``."""
    units = draw(
        st.lists(st.one_of(st.just(None), TEXT.filter(bool)), min_size=1, max_size=4).filter(lambda u: u != [None])
    )
    return Term("".join("*" if unit is None else Term.literal(unit).text for unit in units))


values = st.one_of(terms(), TEXT.map(Phrase))
leaves = st.one_of(
    st.just(MatchAll()),
    st.builds(Match, st.one_of(st.none(), field_names), values),
    st.builds(Range, field_names, st.sampled_from(["<", "<=", ">", ">="]), TEXT),
    st.builds(Exists, field_names),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(
        st.builds(Not, children),
        st.builds(And, many),
        st.builds(Or, many),
        st.builds(Nested, field_names, children),
    )


nodes = st.recursive(leaves, _extend, max_leaves=12)


@given(nodes)
@settings(max_examples=500)
def test_printed_trees_parse_back_identically(node: Node) -> None:
    text = to_kql(node)
    assert parse(text) == node, text


@given(TEXT)
@settings(max_examples=300)
def test_term_literal_round_trips(text: str) -> None:
    assert Term.literal(text).value == text
    assert not Term.literal(text).has_wildcard


# KQL-shaped fragments, so the fuzzer reaches deep into the grammar instead of failing at char 0.
FRAGMENTS = st.sampled_from(
    [
        "title", "category", "is_default", "score", "created_at", "users", "users.name", "name", "nope",
        ":", " ", "(", ")", "{", "}", '"', "*", "\\", "<", "<=", ">", ">=", " and ", " or ", "not ",
        "incident", "true", "5", "-1.5", "2024-01-02", "now-7d/d", "a*b", "%", "_", "\\*", "\\:",
    ]
)  # fmt: skip
KQLISH = st.lists(st.one_of(FRAGMENTS, CHARS), max_size=25).map("".join)


@given(st.one_of(st.text(), KQLISH))
@settings(max_examples=1500)
def test_parse_raises_only_kql_errors(text: str) -> None:
    try:
        node = parse(text)
    except KqlError:
        return
    # Whatever parses prints to text that parses to the same tree.
    assert parse(to_kql(node)) == node


@pytest.fixture(scope="module")
def db() -> Iterator[SampleDb]:
    with sample_db(DATABASE_URL) as database:
        yield database


@given(text=KQLISH)
@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_runs_or_fails_with_a_kql_error(db: SampleDb, text: str) -> None:
    try:
        condition = to_sql(parse(text), db.fields, ["title", "users.name", "score"])
    except KqlError:
        return
    db.ids_where(condition)  # must execute: no driver or SQL errors leak out
