"""What the model is told about the data before it writes a query: the names of the indices the
caller may read, and for the few most relevant to the question, the fields it will likely
need, with their types and, where the anonymization rules allow the values to be seen, the
values of small keyword fields (so it writes `log.level == "error"`, not `"ERROR"`).

Relevance is lexical and cheap: words of the question (and a few synonyms) against the words
of index and field names, plus question words that are values of a keyword field. The values
used for that matching stay local; only those of allowed, non-anonymized fields are shown.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from vigil.anonymization import FieldPolicy
from vigil.datasource import DataField, DataIndex, DataSource

MAX_INDICES_DETAILED = 3
MAX_FIELDS_PER_INDEX = 30
MAX_VALUES_SHOWN = 10
# Keyword fields with more distinct values than this are identifiers, not categories.
MAX_CATEGORY_VALUES = 25
MAX_VALUE_LENGTH = 60  # longer values are sentences, not categories

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    (  # noqa: SIM905 (a list literal would take 43 lines)
        "a an and are as at be by count for from how i in is it many me my of on or over per show the to "
        "what when where which who with last past during each give list all any top most"
    ).split()
)
# Analyst words and the words Elastic's names use for them.
_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "login": ("authentication", "auth", "logon", "ssh"),
    "logon": ("authentication", "auth", "login"),
    "failed": ("failure", "outcome"),
    "fail": ("failure", "outcome"),
    "failure": ("outcome",),
    "success": ("outcome",),
    "successful": ("success", "outcome"),
    "error": ("level", "failure", "status"),
    "errors": ("error", "level", "failure"),
    "cpu": ("system", "norm", "pct"),
    "memory": ("system", "pct"),
    "domain": ("dns", "question"),
    "dns": ("question", "domain"),
    "command": ("process", "command_line", "args"),
    "process": ("process",),
    "alert": ("alerts", "kibana", "severity", "risk"),
    "severity": ("alert", "alerts"),
    "risk": ("alert", "alerts", "score"),
    "service": ("services",),
    "latency": ("duration",),
    "slow": ("duration",),
    "status": ("status_code", "workflow_status"),
    "rule": ("alerts",),
    "technique": ("threat", "alerts"),
    "tactic": ("threat", "alerts"),
    "mitre": ("threat", "alerts"),
    "ip": ("source", "destination"),
}
_ALERT_WORDS = frozenset({"alert", "alerts", "detection", "rule", "severity", "risk", "triage"})
# Fields about the shipping of the data, rarely about what it says.
_BOOKKEEPING = ("data_stream.", "agent.", "ecs.", "input.", "elastic_agent.")
# Useful in most questions about an index: shown when room is left.
_GENERALLY_USEFUL = (
    "@timestamp",
    "message",
    "host.name",
    "user.name",
    "service.name",
    "log.level",
    "event.category",
    "event.action",
    "event.outcome",
    "kibana.alert.rule.name",
    "kibana.alert.severity",
    "kibana.alert.risk_score",
    "kibana.alert.workflow_status",
)


def words(text: str) -> set[str]:
    found = {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}
    stems = {w[:-1] for w in found if len(w) > 3 and w.endswith("s")}
    return found | stems


def question_words(question: str) -> set[str]:
    base = words(question)
    expanded = set(base)
    for word in base:
        expanded.update(_SYNONYMS.get(word, ()))
    return expanded


def _mentions(question: str, value: str) -> bool:
    """Whether the question names `value` as a whole token (`checkout`, `wks-fin-01`)."""
    if len(value) < 3:
        return False
    return re.search(r"(?<![\w-])" + re.escape(value.lower()) + r"(?![\w-])", question.lower()) is not None


def _name_words(name: str) -> set[str]:
    return words(name.replace("_", " "))


@dataclass
class FieldFacts:
    info: DataField
    values: list[str] = field(default_factory=list)  # most frequent first; empty if not a category
    matched: set[str] = field(default_factory=set)  # question words among its values


@dataclass
class IndexFacts:
    info: DataIndex
    score: float
    fields: list[FieldFacts]
    hidden_fields: int


# Values are hints for the query writer: a minute old is fresh enough, and reading them (two
# passes over an index) is then paid once a minute per index rather than once per question.
CACHE_SECONDS = 60.0
_Cached = dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, list[str]]]]
_caches: weakref.WeakKeyDictionary[DataSource, _Cached] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _category_values(source: DataSource, info: DataIndex, names: list[str]) -> dict[str, list[str]]:
    """The values of the small keyword fields, from the source's cache when read less than a
    minute ago."""
    if not names:
        return {}
    key = (info.name, tuple(names))
    now = time.monotonic()
    with _cache_lock:
        cache = _caches.setdefault(source, {})
        cached = cache.get(key)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = source.category_values(info.name, names, MAX_CATEGORY_VALUES)
    values = {name: texts for name, texts in found.items() if all(len(t) <= MAX_VALUE_LENGTH for t in texts)}
    with _cache_lock:
        for stale in [k for k, (at, _) in cache.items() if now - at >= CACHE_SECONDS]:
            del cache[stale]
        cache[key] = (now, values)
    return values


def describe_indices(
    source: DataSource, indices: list[DataIndex], question: str, policy: FieldPolicy
) -> list[IndexFacts]:
    """The indices ranked for the question, the first few with their relevant fields."""
    wanted = question_words(question)
    about_alerts = bool(wanted & _ALERT_WORDS)
    scored: list[tuple[float, DataIndex]] = []
    for info in indices:
        name_hits = len(wanted & _name_words(info.name))
        field_share = sum(1 for name in info.fields if wanted & _name_words(name)) / max(len(info.fields), 1)
        score = 3 * name_hits + 10 * field_share
        if info.name.startswith(".alerts-") and not about_alerts:
            score -= 5  # alerts repeat their events' fields; the events answer event questions
        scored.append((score, info))
    scored.sort(key=lambda item: (-item[0], item[1].name))

    # Values decide between indices too ("checkout" is a service.name): look at the top few.
    facts: list[IndexFacts] = []
    for score, info in scored[: MAX_INDICES_DETAILED * 2]:
        keywords = [n for n, f in info.fields.items() if f.es_type == "keyword" and not f.multi_valued]
        values = _category_values(source, info, keywords)
        field_facts = {}
        mentioned: set[str] = set()
        for name, field_info in info.fields.items():
            known = values.get(name, [])
            matched = {v for v in known if _mentions(question, v)}
            mentioned |= matched
            field_facts[name] = FieldFacts(field_info, known, matched)
        facts.append(IndexFacts(info, score + 4 * len(mentioned), _pick_fields(field_facts, wanted, policy), 0))
    facts.sort(key=lambda f: (-f.score, f.info.name))
    detailed = facts[:MAX_INDICES_DETAILED]
    for item in detailed:
        item.hidden_fields = len(item.info.fields) - len(item.fields)
    return detailed


def _pick_fields(facts: Mapping[str, FieldFacts], wanted: set[str], policy: FieldPolicy) -> list[FieldFacts]:
    def rank(name: str) -> tuple[int, str]:
        fact = facts[name]
        if name == "@timestamp":
            return (0, name)
        if fact.matched:
            return (1, name)
        if wanted & _name_words(name):
            return (2, name)
        if name in _GENERALLY_USEFUL:
            return (3, name)
        if name.startswith(_BOOKKEEPING):
            return (5, name)
        return (4, name)

    ordered = sorted(facts, key=rank)
    chosen = [facts[name] for name in ordered[:MAX_FIELDS_PER_INDEX]]
    for fact in chosen:
        # Only values the model is allowed to see in clear are shown.
        if not (policy.is_allowed(fact.info.name) and not policy.is_anonymized(fact.info.name)):
            fact.values = []
    return sorted(chosen, key=lambda f: f.info.name)


def render_context(all_indices: list[DataIndex], detailed: list[IndexFacts]) -> str:
    lines = ["Indices you may query:"]
    lines.extend(f"- {info.name}" for info in sorted(all_indices, key=lambda i: i.name))
    for item in detailed:
        lines.append("")
        more = f" (and {item.hidden_fields} other fields)" if item.hidden_fields else ""
        lines.append(f"Fields of {item.info.name}{more}:")
        for fact in item.fields:
            line = f"- {fact.info.name} {fact.info.es_type}"
            if fact.info.multi_valued:
                line += " (multi-valued)"
            if fact.values:
                shown = fact.values[:MAX_VALUES_SHOWN]
                line += " values: " + ", ".join(shown) + (", ..." if len(fact.values) > len(shown) else "")
            if fact.matched:
                line += f" (the question's {', '.join(sorted(fact.matched))} is a value of this field)"
            lines.append(line)
    return "\n".join(lines)
