"""Compiled KQL run against a real database.

SQLite in memory by default; set VIGIL_TEST_DATABASE_URL (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) to run the same cases on PostgreSQL.
Tables get unique names and are dropped afterwards, so a shared database is fine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.kql.sample_db import ALL_IDS, DATABASE_URL, SampleDb, sample_db
from vigil.kql import KqlError, KqlFieldError, parse, to_sql


@pytest.fixture(scope="module", params=[DATABASE_URL], ids=lambda url: url.split(":", 1)[0])
def db(request: pytest.FixtureRequest) -> Iterator[SampleDb]:
    with sample_db(request.param) as database:
        yield database


CASES: list[tuple[str, list[int]]] = [
    # Match-all.
    ("", ALL_IDS),
    ("*", ALL_IDS),
    ("*:*", ALL_IDS),
    ("title:incident and *", [1, 2]),
    # keyword: exact, case-sensitive, wildcards with literal % and _.
    ("category:assistant", [1]),
    ("category:Assistant", [4]),
    ('category:"assistant"', [1]),
    ("category:assist*", [1]),
    ("category:*ssistant", [1, 4]),
    ("category:*SSIST*", []),
    ("category:ass%t*", [3]),
    ("category:ass_*", []),  # `_` is not a single-character wildcard
    ("category:*%*", [3]),
    ("category:a?*", []),  # nor is `?` (GLOB's wildcard on SQLite)
    ("category:a[*", []),
    (r"category:a\*b", [5]),
    ("category:a*b", [5]),
    ('category:"a*b"', [5]),
    (r"category:back\\slash", [6]),
    (r"category:back\\*", [6]),
    (r"category:*\\*", [6]),
    ("category:*", ALL_IDS),
    ("category < b", [1, 3, 4, 5]),
    ("category >= insights", [2]),
    # text: case-insensitive substring; several words match if any does; phrases as a whole.
    ("title:incident", [1, 2]),
    ("title:INCIDENT", [1, 2]),
    ('title:"incident 42"', [1, 2]),
    ('title:"42 in"', [1]),
    ("title:prod triage", [1, 2]),
    ('title:"prod triage"', []),
    ("title:nomatch triage", [2]),
    ("title:inc*42", [1, 2]),
    ("title:50%", [3]),
    ("title:done_ok", [3]),
    ('title:"e_e"', []),
    (r"title:\*", [5]),
    ('title:"(urgent)"', [5]),
    (r'title:"c:\\temp\\evil"', [6]),
    ("title:*", [1, 2, 3, 5, 6]),
    ("not title:*", [4]),
    ("not title:incident", [3, 4, 5, 6]),  # rows without a title are "not incident" too
    # boolean
    ("is_default:true", [1, 5]),
    ("is_default:FALSE", [2, 4, 6]),
    ('is_default:"true"', [1, 5]),
    ("not is_default:true", [2, 3, 4, 6]),
    ("is_default:*", [1, 2, 4, 5, 6]),
    # number
    ("score:10", [2]),
    ("score:4.5", [1]),
    ("score:0", [5]),
    ("score:-1", [3]),
    ("score:1e1", [2]),
    ("score:(0 or 10)", [2, 5]),
    ("score >= 4.5", [1, 2, 6]),
    ("score > 4.5", [2, 6]),
    ("score < 0", [3]),
    ("score <= 0", [3, 5]),
    ("not score > 0", [3, 4, 5]),
    ("score:*", [1, 2, 3, 5, 6]),
    ("score:99999999999999999999", []),
    # date: a value is a period as precise as written; now = 2024-06-15T12:00Z
    ("created_at:2024-01-02", [3]),
    ("created_at:2024-01-03", [4]),
    ("created_at:2024-01", [3, 4, 6]),
    ("created_at:2024", [1, 2, 3, 4, 6]),
    ("created_at >= 2024-06-01", [1, 2]),
    ("created_at > 2024-06-01", [1]),
    ("created_at <= 2024-01-02", [3, 6]),
    ("created_at < 2024-01-02", [6]),
    ('created_at < "2024-01-02T23:59:59Z"', [6]),
    ('created_at <= "2024-01-02T23:59:59Z"', [3, 6]),
    ('created_at:"2024-01-02T23:59:59Z"', [3]),
    ('created_at:"2024-01-01T03:00:00+02:00"', [6]),
    ('created_at:"2024-06-01T00:00:00.000Z"', [2]),
    ("created_at:1717200000000", [2]),
    ("created_at >= now-7d", [1]),
    ("created_at >= now-30d", [1, 2]),
    ("created_at < now-1y", []),
    ("created_at:now-1d/d", [1]),
    ("created_at >= now/M", [1, 2]),
    ("created_at > now-1M/M", [1, 2]),
    ("created_at >= now-1d/d and created_at < now/d", [1]),
    ("created_at:*", [1, 2, 3, 4, 6]),
    ("not created_at:*", [5]),
    # nested
    ("users:{ name: elastic }", [1, 3]),
    ("users.name:elastic", [1, 3]),
    ("users:{ name: Elastic }", [5]),
    ("users.name:*lastic", [1, 3, 5]),
    ("users:{ name:elastic and user_id:u2 }", []),  # one child row must match both
    ("users.name:elastic and users.user_id:u2", [1]),  # dotted fields are separate conditions
    ("users:{ name:alice or name:bob }", [1, 2, 5]),
    ("users:{ name:(alice or bob) }", [1, 2, 5]),
    ("users:{ not name:alice }", [1, 2, 3, 5, 6]),
    ("not users:{ name:alice }", [2, 3, 4, 6]),
    ("users:*", [1, 2, 3, 5, 6]),
    ("not users:*", [4]),
    ("users.name:*", [1, 2, 3, 5]),
    ("users:{ name:* }", [1, 2, 3, 5]),
    ("users:{ * }", [1, 2, 3, 5, 6]),
    ("users:{ user_id:u1 } and is_default:true", [1]),
    # boolean structure
    ("title:incident and not category:insights", [1]),
    ("category:(assistant or insights)", [1, 2]),
    ("category:(not assistant and not insights)", [3, 4, 5, 6]),
    ("(title:incident or title:phishing) and is_default:true", [1, 5]),
    ("title:incident or title:phishing and is_default:true", [1, 2, 5]),
    ("not (is_default:true or score > 5)", [3, 4]),
    ("not not is_default:true", [1, 5]),
    # values are bound parameters, never SQL
    ("category:\"x' OR '1'='1\"", []),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[query or "<empty>" for query, _ in CASES])
def test_query_selects_expected_rows(db: SampleDb, query: str, expected: list[int]) -> None:
    assert db.ids(query) == expected


@pytest.mark.parametrize(
    ("query", "default_fields", "expected"),
    [
        ("incident", ["title"], [1, 2]),
        ('"Incident 42"', ["title"], [1, 2]),
        ("assistant", ["title", "category"], [1]),
        ("abc", ["score", "title"], []),  # lenient: `score` cannot hold "abc" and is skipped
        ("10", ["score", "title"], [2]),
        ("42 or phishing", ["title"], [1, 2, 5]),
        ("elastic", ["users.name"], [1, 3]),
        ("true", ["is_default"], [1, 5]),
        ("maybe", ["is_default"], []),
        ("incident and category:insights", ["title"], [2]),
    ],
)
def test_default_fields(db: SampleDb, query: str, default_fields: list[str], expected: list[int]) -> None:
    assert db.ids(query, default_fields) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "foo:bar",
            "unknown field 'foo'; known fields: category, created_at, is_default, score, title, users, "
            "users.name, users.user_id",
        ),
        ("cat*:x", "wildcards in field names are not supported: 'cat*'"),
        ("*:x", "wildcards in field names are not supported: '*'"),
        ("is_default:maybe", "'maybe' is not a boolean; field 'is_default' accepts true or false"),
        ("score:abc", "'abc' is not a number; field 'score' is numeric"),
        ("score > abc", "'abc' is not a number"),
        ("score:1*", "wildcards are not supported on number field 'score'"),
        ("is_default:t*", "wildcards are not supported on boolean field 'is_default'"),
        ("created_at:yesterday", "'yesterday' is not a valid date for field 'created_at' (expected an ISO"),
        ("created_at >= now-1q", "invalid date math at '-1q'"),
        ("is_default > true", "range comparisons are not supported on boolean field 'is_default'"),
        ("users:alice", "'users' is a nested field: query its sub-fields as users:{ field: value }"),
        ("users < 3", "'users' is a nested field"),
        ("title:{ x:y }", "'title' is not a nested field: write title:value"),
        ("nope:{ x:y }", "unknown field 'nope'"),
        ("incident", "a field name is required: write field:incident instead of incident"),
        ('"two words"', 'write field:"two words"'),
        ("users:{ alice }", "a field name is required inside nested field 'users'"),
        ("users:{ foo:x }", "unknown field 'foo' in nested field 'users'; known fields: name, user_id"),
        ("users.foo:x", "unknown field 'users.foo'"),
        ("users:{ name:{ x:y } }", "'name' is not a nested field"),
        ("title:x or score:abc", "'abc' is not a number"),
    ],
)
def test_field_errors(db: SampleDb, query: str, message: str) -> None:
    with pytest.raises(KqlFieldError) as caught:
        to_sql(parse(query), db.fields)
    assert message in caught.value.message
    assert isinstance(caught.value, KqlError)


def test_no_fields_at_all_lists_none(db: SampleDb) -> None:
    with pytest.raises(KqlFieldError, match=r"unknown field 'a'; known fields: \(none\)"):
        to_sql(parse("a:b"), {})


def test_values_are_bound_not_inlined(db: SampleDb) -> None:
    condition = to_sql(parse('title:"sneaky value" and category:a*b and score > 31337'), db.fields)
    sql = str(condition.compile(db.engine))
    assert "sneaky" not in sql
    assert "a%b" not in sql
    assert "a*b" not in sql
    assert "31337" not in sql


def test_same_shape_queries_reuse_the_statement_cache_safely(db: SampleDb) -> None:
    # Identical SQL shapes hit SQLAlchemy's compiled cache; each must still use its own values.
    for _ in range(2):
        assert db.ids("category:assist*") == [1]
        assert db.ids("category:*ssistant") == [1, 4]
        assert db.ids("category:a*b") == [5]


def test_text_case_folding_is_consistent_beyond_ascii(db: SampleDb) -> None:
    table = db.conversations
    with db.engine.connect() as connection:
        connection.execute(table.insert(), {"id": 99, "title": "ÉTÉ Crise", "category": "x"})

        def ids(query: str) -> list[int]:
            condition = to_sql(parse(query), db.fields)
            return list(connection.execute(select(table.c.id).where(condition)).scalars())

        assert ids("title:ÉTÉ") == [99]  # same case matches whatever the database's lower() does
        assert ids('title:"été crise"') in ([], [99])  # folding non-ASCII depends on the database
        assert ids("title:CRISE") == [99]
        connection.rollback()
