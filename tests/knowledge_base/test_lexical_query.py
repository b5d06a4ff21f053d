"""The user's words become FTS5 queries that can never be query syntax."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.knowledge_base.lexical import fts5_match, query_words

pytestmark = pytest.mark.backend_independent


def test_stop_words_and_punctuation_are_dropped() -> None:
    assert query_words("What is the MITRE technique T1059.001?") == ["mitre", "technique", "t1059.001"]
    assert query_words("the of and") == []
    assert fts5_match("the of and ???") is None


def test_compound_words_are_searched_as_a_phrase_and_as_pieces() -> None:
    assert fts5_match("srv-win-s1-rsa") == '"srv win s1 rsa" OR "srv" OR "win" OR "s1" OR "rsa"'
    assert fts5_match('NEAR("x" y) AND OR NOT *') == '"near x" OR "near" OR "x" OR "y"'


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_valid_query(text: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')")
    connection.execute("INSERT INTO t(body) VALUES ('srv-win-s1-rsa is in New York, T1059.001 PowerShell')")
    match = fts5_match(text)
    if match is not None:
        connection.execute("SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t)", (match,)).fetchall()


def test_a_compound_id_finds_its_document() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')")
    connection.executemany(
        "INSERT INTO t(rowid, body) VALUES (?, ?)",
        [(1, "T1059 command interpreter, see T1003 001"), (2, "T1059.001 PowerShell"), (3, "New York office")],
    )
    rows = connection.execute(
        "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t)", (fts5_match("T1059.001"),)
    ).fetchall()
    assert rows[0] == (2,)
