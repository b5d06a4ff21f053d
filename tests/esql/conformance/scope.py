"""Which conformance tests need a feature Vigil leaves out of scope (docs/esql.md, "Out of scope").

A test is skipped only for one of the features below, found from its `required_capability` lines,
its query text (commands, functions, operators; string literals and quoted names ignored), the
types of its expected columns, or an index it reads whose mapping needs such a feature. Every
`Feature.label` must appear in the out-of-scope list of docs/esql.md (a unit test checks it).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from tests.esql.conformance.expected import ExpectedResults
from tests.esql.conformance.spec import SpecTest


@dataclass(frozen=True)
class Feature:
    label: str
    commands: tuple[str, ...] = ()  # regexes for a command at the start of a pipe segment
    functions: tuple[str, ...] = ()  # regexes for a function name followed by "("
    types: tuple[str, ...] = ()  # canonical expected-column types
    datasets: tuple[str, ...] = ()  # indices (globs) whose mapping needs the feature
    capabilities: tuple[str, ...] = ()  # regexes searched in required_capability names
    query_patterns: tuple[str, ...] = ()  # other regexes on the query text


OUT_OF_SCOPE: tuple[Feature, ...] = (
    Feature(
        "Geospatial types and functions",
        functions=(r"ST_\w+", r"TO_GEOPOINT", r"TO_GEOSHAPE", r"TO_CARTESIANPOINT", r"TO_CARTESIANSHAPE", r"TO_GEO\w+"),
        types=("GEO_POINT", "GEO_SHAPE", "CARTESIAN_POINT", "CARTESIAN_SHAPE"),
        datasets=(
            "airports*",
            "airport_city_boundaries",
            "countries_bbox*",
            "cartesian_multipolygons*",
            "multivalue_geometries",
            "multivalue_points",
            "distances",
        ),
        capabilities=(r"^st_", r"spatial", r"geo_", r"geohash|geotile|geohex", r"cartesian"),
    ),
    Feature(
        "date_nanos",
        functions=(r"TO_DATE_?NANOS",),
        types=("DATE_NANOS",),
        datasets=("date_nanos*", "*_ts_nanos*", "datenanos-k8s"),
        capabilities=(r"date_nanos",),
    ),
    Feature("ENRICH", commands=(r"ENRICH",), capabilities=(r"enrich",)),
    Feature(
        "Full-text search and relevance scoring",
        functions=(r"MATCH", r"MATCH_PHRASE", r"MULTI_MATCH", r"QSTR", r"KQL", r"SCORE", r"TERM"),
        datasets=("books", "semantic_text"),
        capabilities=(
            r"match_function|match_operator|match_phrase|multi_match|qstr|kql|full_text|(^|_)score|term_function",
        ),
        # `field:"text"` is the match operator (a single colon; `::` is a cast)
        query_patterns=(r"METADATA[^|]*\b_score\b", r"[\w`]\s*:(?!:)"),
    ),
    Feature(
        "semantic_text, vectors and inference",
        commands=(r"COMPLETION", r"RERANK"),
        functions=(r"KNN", r"TEXT_EMBEDDING", r"V_\w+", r"CHUNK", r"TO_DENSE_VECTOR"),
        types=("SEMANTIC_TEXT", "DENSE_VECTOR"),
        datasets=("dense_vector*", "mmr_text_vector_keyword", "colors*", "knn_hex_vectors"),
        capabilities=(r"semantic|dense_vector|knn|vector|rerank|completion|inference|embedding",),
    ),
    Feature("INLINE STATS", commands=(r"INLINESTATS", r"INLINE\s+STATS"), capabilities=(r"inline_?stats",)),
    Feature("FORK and FUSE", commands=(r"FORK", r"FUSE"), capabilities=(r"^fork|fuse",)),
    Feature("CHANGE_POINT", commands=(r"CHANGE_POINT",), capabilities=(r"change_point",)),
    Feature("CATEGORIZE", functions=(r"CATEGORIZE",), capabilities=(r"categorize",)),
    Feature("SAMPLE", commands=(r"SAMPLE",), capabilities=(r"^sample",)),
    Feature(
        "Time series (TS, counters, RATE and *_OVER_TIME, metric and histogram types)",
        commands=(r"TS", r"METRICS", r"PROMQL"),
        functions=(r"I?RATE", r"I?DELTA", r"INCREASE", r"\w+_OVER_TIME", r"TBUCKET", r"TO_AGGREGATE_METRIC_DOUBLE"),
        types=("AGGREGATE_METRIC_DOUBLE", "EXPONENTIAL_HISTOGRAM", "TDIGEST", "HISTOGRAM"),
        datasets=(
            "k8s*",
            "otel-metrics",
            "prom-metrics",
            "promql_*",
            "*histogram*",
            "tdigest*",
            "metric_temporality",
            "ts_*",
        ),
        capabilities=(
            r"metrics_command|ts_command|time_series|tsdb|(^|_)i?rate(_|$)|over_time|promql|aggregate_metric|histogram|tdigest",
        ),
    ),
    Feature("Range field types", types=("IP_RANGE", "INTEGER_RANGE", "DOUBLE_RANGE", "DATE_RANGE")),
    Feature(
        "Views and subqueries",
        capabilities=(r"(^|_)views?(_|$)|subquer",),
        query_patterns=(r"\bFROM\s*\(", r"\bIN\s*\(\s*FROM\b"),
    ),
    Feature(
        "Inline LOOKUP tables",
        commands=(r"LOOKUP_\S+", r"LOOKUP(?!\s+JOIN\b)"),
        capabilities=(r"^tables_types|^lookup_v\d",),
    ),
    Feature(
        "Unmapped-field loading (INSIST, SET unmapped_fields)",
        commands=(r"INSIST_\S+", r"INSIST"),
        capabilities=(r"unmapped|insist",),
        query_patterns=(r"\bSET\s+unmapped_fields",),
    ),
    Feature("Query settings (SET)", query_patterns=(r"^\s*SET\s",)),
    Feature(
        "SHOW, EXPLAIN and remote clusters",
        commands=(r"SHOW", r"EXPLAIN"),
        query_patterns=(r"\bFROM\s+[\w*-]+:[\w*-]+",),
    ),
    Feature("Approximate results (approximate:)", capabilities=(r"^approximat",)),
)

_STRING = re.compile(r'"""(?:.|\n)*?"""|"(?:[^"\\\n]|\\.)*"|`(?:[^`]|``)*`')
_SOURCE = re.compile(r"^\s*(?:FROM|TS|METRICS)\s+(?P<sources>.+?)(?:\s+METADATA\b|\||$)", re.IGNORECASE | re.DOTALL)
_LOOKUP = re.compile(r"\bLOOKUP\s+JOIN\s+([\w*.,-]+)", re.IGNORECASE)


def _strip_literals(query: str) -> str:
    """The query with string literals and quoted names blanked, so a word inside them never matches."""
    return _STRING.sub(lambda m: '""' if m.group(0).startswith('"') else "`q`", query)


def indices_read(query: str) -> list[str]:
    """Index names or patterns a query reads (its source command and LOOKUP JOINs)."""
    found: list[str] = []
    source = _SOURCE.match(query)
    if source:
        found += [name.strip().strip('"') for name in source.group("sources").split(",") if name.strip()]
    found += _LOOKUP.findall(query)
    return found


def _command_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|\|)\s*(?:{pattern})(?:\s|$)", re.IGNORECASE)


def _function_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.])(?:{pattern})\s*\(", re.IGNORECASE)


def skip_reason(test: SpecTest, expected: ExpectedResults | None) -> str | None:
    """The out-of-scope feature a test needs, as "<feature>: <evidence>", or None to run it."""
    text = _strip_literals(test.query)
    # A pattern counts by its literal part: `airports*` reads the (geospatial) airports indices.
    reads = [name.replace("*", "") for name in indices_read(test.query) if name.strip("*")]
    for feature in OUT_OF_SCOPE:
        for capability in test.required_capabilities:
            if any(re.search(p, capability, re.IGNORECASE) for p in feature.capabilities):
                return f"{feature.label}: capability {capability}"
        for pattern in feature.commands:
            if _command_regex(pattern).search(text):
                return f"{feature.label}: command {pattern}"
        for pattern in feature.functions:
            match = _function_regex(pattern).search(text)
            if match:
                return f"{feature.label}: function {match.group(0).rstrip('( ').upper()}"
        for pattern in feature.query_patterns:
            if re.search(pattern, text, re.IGNORECASE | re.MULTILINE):
                return f"{feature.label}: query syntax"
        if expected is not None:
            for column in expected.columns:
                if column.type in feature.types:
                    return f"{feature.label}: column type {column.type_name}"
        for index in reads:
            if any(fnmatch.fnmatchcase(index, pattern) for pattern in feature.datasets):
                return f"{feature.label}: index {index}"
    if test.directives.get("approximate", "").lower() == "true":
        return "Approximate results (approximate:): approximate: true"
    return None


def feature_of(reason: str) -> str:
    """The feature label of a skip reason (for counting skips by feature)."""
    return reason.split(": ", 1)[0]
