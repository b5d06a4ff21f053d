"""Full-text retrieval of chunks: SQLite FTS5 (BM25) or PostgreSQL text search (ts_rank_cd).

The user's words are never passed as query syntax: each becomes a quoted FTS5 phrase or a
`plainto_tsquery` of its own, OR-ed together, so any text is a valid query and ranking, not
matching every word, decides. Common English words are dropped first: they would match most
chunks and make ranking slow without telling anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

MAX_QUERY_WORDS = 32
# Most passages one full-text query scores (see _selective_match): bounds the cost of questions
# made of common words over large knowledge bases.
MAX_SCORED_PASSAGES = 4000
# A query word found in an entry's name (an ATT&CK id, a runbook title) counts this many times
# one found in its text (FTS5 bm25 column weight; PostgreSQL uses its A/B weights).
TITLE_WEIGHT = 5.0

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "tell",
        "know",
        "please",
        "explain",
        "describe",
        "give",
        "show",
        "list",
        "find",
    ]
)

_PIECE = re.compile(r"[^\W_]+")
_EDGE_PUNCTUATION = "\"'`()[]{}<>,;:!?*"


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: int
    score: float  # higher is better on both backends


def query_words(query: str) -> list[str]:
    """The words of a query worth searching for: lowercased, unique, stop words and punctuation
    around them removed (a word like `T1059.001` or `srv-win-s1-rsa` stays whole)."""
    words: list[str] = []
    for raw in query.lower().split():
        word = raw.strip(_EDGE_PUNCTUATION).rstrip(".")
        if not word or word in STOPWORDS or not _PIECE.search(word):
            continue
        if word not in words:
            words.append(word)
        if len(words) == MAX_QUERY_WORDS:
            break
    return words


def fts5_clauses(query: str) -> list[str]:
    """The FTS5 phrases to look for, one per word (quoted, so never query syntax). A compound word
    (`t1059.001`) is searched as the phrase of its pieces and as each piece, so an exact occurrence
    ranks above chunks that only share a piece."""
    clauses: list[str] = []
    for word in query_words(query):
        pieces = _PIECE.findall(word)
        if len(pieces) > 1:
            clauses.append('"' + " ".join(pieces) + '"')
        clauses.extend(f'"{piece}"' for piece in pieces)
    return list(dict.fromkeys(clauses))


def fts5_match(query: str) -> str | None:
    """An FTS5 MATCH expression for free text; None when nothing is left to search for."""
    clauses = fts5_clauses(query)
    return " OR ".join(clauses) if clauses else None


def search(
    session: Session,
    query: str,
    *,
    namespaces: Sequence[str],
    owners: Sequence[str],
    limit: int,
) -> list[LexicalHit]:
    """The best `limit` chunks of the given namespaces whose owner is one of `owners`."""
    if limit <= 0 or not namespaces:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _search_postgres(session, query, namespaces, owners, limit)
    return _search_sqlite(session, query, namespaces, owners, limit)


_SQLITE_SEARCH = text(
    "SELECT c.id AS id, bm25(kb_chunks_fts, :title_weight, 1.0) AS rank FROM kb_chunks_fts "
    "JOIN kb_chunks AS c ON c.id = kb_chunks_fts.rowid "
    "WHERE kb_chunks_fts MATCH :match AND c.namespace IN :namespaces AND c.owner_id IN :owners "
    "ORDER BY rank, c.id LIMIT :limit"
).bindparams(bindparam("namespaces", expanding=True), bindparam("owners", expanding=True))

# The same, looking up the passage rows (namespace and owner) of the best `prefetch` matches only:
# the join, not the ranking, is most of the cost when thousands of passages match. It answers the
# same rows when at least `limit` of them are the caller's (see _search_sqlite).
_SQLITE_SEARCH_BEST = text(
    "SELECT c.id AS id, best.rank AS rank FROM ("
    "SELECT rowid AS id, bm25(kb_chunks_fts, :title_weight, 1.0) AS rank FROM kb_chunks_fts "
    "WHERE kb_chunks_fts MATCH :match ORDER BY rank, rowid LIMIT :prefetch) AS best "
    "JOIN kb_chunks AS c ON c.id = best.id "
    "WHERE c.namespace IN :namespaces AND c.owner_id IN :owners "
    "ORDER BY best.rank, c.id LIMIT :limit"
).bindparams(bindparam("namespaces", expanding=True), bindparam("owners", expanding=True))
# Matches ranked before the namespace/owner filter, as a multiple of the rows wanted.
PREFETCH_FACTOR = 4


_SQLITE_DOCUMENT_COUNT = text(
    "SELECT count(*) FROM (SELECT 1 FROM kb_chunks_fts WHERE kb_chunks_fts MATCH :clause LIMIT :cap)"
)


def _selective_match(session: Session, clauses: list[str]) -> str:
    """Drops the most common words of a query when scoring every passage they occur in would cost
    more than MAX_SCORED_PASSAGES: BM25 gives such words little weight, but an OR over them makes
    FTS5 score most of a large corpus. Rarest first, the rarest always kept; counting stops at
    the budget, so it costs a few index reads per word."""
    counts = {
        clause: int(session.scalar(_SQLITE_DOCUMENT_COUNT, {"clause": clause, "cap": MAX_SCORED_PASSAGES}) or 0)
        for clause in clauses
    }
    kept: list[str] = []
    total = 0
    for clause in sorted(clauses, key=lambda c: counts[c]):
        if counts[clause] == 0:
            continue
        if kept and total + counts[clause] > MAX_SCORED_PASSAGES:
            break
        kept.append(clause)
        total += counts[clause]
    return " OR ".join(kept or clauses)


def _search_sqlite(
    session: Session, query: str, namespaces: Sequence[str], owners: Sequence[str], limit: int
) -> list[LexicalHit]:
    clauses = fts5_clauses(query)
    if not clauses:
        return []
    match = _selective_match(session, clauses)
    params = {
        "match": match,
        "namespaces": list(namespaces),
        "owners": list(owners),
        "limit": limit,
        "prefetch": limit * PREFETCH_FACTOR,
        "title_weight": TITLE_WEIGHT,
    }
    # The best matches of every namespace and owner, filtered: when `limit` of them remain, they are
    # the caller's best `limit` (a passage of theirs outside them ranks below all of them). Ties are
    # broken by id in both statements, so either answers the same rows. Otherwise (the caller's
    # passages are a small part of the matches) the filter goes inside the ranking.
    rows = session.execute(_SQLITE_SEARCH_BEST, params).all()
    if len(rows) < limit:
        rows = session.execute(_SQLITE_SEARCH, params).all()
    # FTS5's bm25() is negative, lower is better.
    return [LexicalHit(int(row.id), -float(row.rank)) for row in rows]


def _search_postgres(
    session: Session, query: str, namespaces: Sequence[str], owners: Sequence[str], limit: int
) -> list[LexicalHit]:
    words = query_words(query)
    if not words:
        return []
    scope = {"namespaces": list(namespaces), "owners": list(owners)}
    # PostgreSQL's ts_rank_cd has no inverse document frequency: "technique" would weigh as much
    # as "t1059.001". Each word's rank is weighted by its BM25 idf, as FTS5's bm25() does.
    passages = int(session.execute(_PG_PASSAGE_COUNT, scope).scalar() or 0)
    weights: dict[str, float] = {}
    for word in words:
        found = int(session.execute(_PG_DOCUMENT_COUNT, {**scope, "word": word, "cap": IDF_COUNT_CAP}).scalar() or 0)
        if found:
            weights[word] = math.log(1 + (max(passages, found) - found + 0.5) / (found + 0.5))
    if not weights:
        return []
    # One plainto_tsquery per word: PostgreSQL's own parser splits each word exactly as it split
    # the documents (it keeps `t1059.001` whole, for example).
    ranked = list(weights)
    matches = " || ".join(f"plainto_tsquery('english', :w{i})" for i in range(len(ranked)))
    rank = " + ".join(
        f":idf{i} * ts_rank_cd(c.search_vector, plainto_tsquery('english', :w{i}))" for i in range(len(ranked))
    )
    statement = text(
        f"SELECT c.id AS id, ({rank}) AS rank "
        f"FROM kb_chunks AS c, (SELECT {matches} AS query) AS q "
        "WHERE c.search_vector @@ q.query AND c.namespace IN :namespaces AND c.owner_id IN :owners "
        "ORDER BY rank DESC, c.id LIMIT :limit"
    ).bindparams(bindparam("namespaces", expanding=True), bindparam("owners", expanding=True))
    params: dict[str, object] = {**scope, "limit": limit}
    for i, word in enumerate(ranked):
        params[f"w{i}"] = word
        params[f"idf{i}"] = weights[word]
    return [LexicalHit(int(row.id), float(row.rank)) for row in session.execute(statement, params)]


# Past this many passages a word is simply common: counting further would cost index reads for
# an idf that hardly changes.
IDF_COUNT_CAP = 20_000

_PG_PASSAGE_COUNT = text(
    "SELECT count(*) FROM kb_chunks WHERE namespace IN :namespaces AND owner_id IN :owners"
).bindparams(bindparam("namespaces", expanding=True), bindparam("owners", expanding=True))

_PG_DOCUMENT_COUNT = text(
    "SELECT count(*) FROM (SELECT 1 FROM kb_chunks WHERE search_vector @@ plainto_tsquery('english', :word) "
    "AND namespace IN :namespaces AND owner_id IN :owners LIMIT :cap) AS found"
).bindparams(bindparam("namespaces", expanding=True), bindparam("owners", expanding=True))
