"""Natural language to ES|QL: the model writes the query, Vigil parses, checks rights, verifies
and runs it, and hands errors back to the model to repair, a bounded number of times.

The model that writes the query gets a short ES|QL primer and only the relevant part of the
data's metadata (`data_context`), in a side request (`ToolContext.ask_model`) so the
conversation itself stays small. What comes back to the conversation is the query, as a
citable `EsqlQuery` reference, and the first rows of its result, each column anonymized as the
fields it derives from (`lineage`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, Field

from vigil.agent.tools import AssistantTool, ToolContext
from vigil.errors import ServiceUnavailable, VigilError
from vigil.esql.executor import EsqlResult
from vigil.esql.parser import parse
from vigil.investigation.access import readable_indices, reads_data, require_data_read
from vigil.investigation.data_context import describe_indices, render_context
from vigil.investigation.esql_runner import Parts, require_parts, rows_of, run_authorized
from vigil.investigation.framing import frame
from vigil.investigation.lineage import Lineage, column_policy
from vigil.investigation.tables import render_table

PRIMER = """You write one ES|QL query that answers the analyst's question from the indices described below.
Reply with the query alone, in an ```esql code block, without explanation.

ES|QL essentials:
- A source command, then processing commands separated by |, for example:
  FROM logs-x-default | WHERE a == "b" | EVAL d = e * 2 | STATS n = COUNT(*) BY g | SORT n DESC | LIMIT 10
- Commands: FROM, WHERE, EVAL, STATS ... BY, SORT, LIMIT, KEEP, DROP, RENAME old AS new, DISSECT, MV_EXPAND.
- Conditions: ==, !=, <, <=, >, >=, AND, OR, NOT, x IN ("a", "b"), x LIKE "*part*", x IS NULL, x IS NOT NULL.
- Strings in double quotes. Backquote a field name containing other characters than letters, digits, _ . @
- Time: NOW() is the current time; @timestamp >= NOW() - 24 hours (also 7 days, 30 minutes).
- A time series: STATS count = COUNT(*) BY bucket = BUCKET(@timestamp, 1 hour) | SORT bucket
- Aggregations: COUNT(*), COUNT(x), COUNT_DISTINCT(x), SUM, AVG, MIN, MAX, MEDIAN, PERCENTILE(x, 95), VALUES(x).
- Functions: TO_LOWER, TO_UPPER, LENGTH, CONCAT, SUBSTRING, DATE_TRUNC(1 hour, @timestamp), ROUND, CASE.
- Use only the indices and fields listed. Query one index when one suffices. Aggregate with STATS, or end
  with LIMIT (100 rows at most)."""

_FENCED = re.compile(r"```[ \t]*(?:esql|sql)?[ \t]*\n?(.*?)```", re.DOTALL | re.IGNORECASE)
_SOURCE_START = re.compile(r"^\s*(FROM|ROW|SHOW)\b", re.IGNORECASE | re.MULTILINE)


def extract_query(reply: str) -> str | None:
    """The query in a model's reply: a fenced block, else the text from FROM (or ROW, SHOW)."""
    fenced = _FENCED.search(reply)
    text = fenced.group(1) if fenced else None
    if text is None:
        start = _SOURCE_START.search(reply)
        text = reply[start.start() :] if start else None
    if text is None:
        return None
    text = text.strip().rstrip(";").strip()
    return text or None


@dataclass(frozen=True)
class Attempt:
    query: str
    error: str | None  # None: it ran


@dataclass
class QueryOutcome:
    attempts: list[Attempt] = field(default_factory=list)
    result: EsqlResult | None = None

    @property
    def query(self) -> str | None:
        return self.attempts[-1].query if self.attempts else None


def _prompt(question: str, data: str, attempts: list[Attempt], requirement: str) -> str:
    parts = [f"Question: {question}"]
    if requirement:
        parts.append(f"Requirement: {requirement}")
    parts.append(data)
    for attempt in attempts:
        parts.append(f"This query failed:\n```esql\n{attempt.query}\n```\nError: {attempt.error}")
    if attempts:
        parts.append("Write a corrected query.")
    return "\n\n".join(parts)


def _instructions() -> str:
    return f"{PRIMER}\nCurrent time: {datetime.now(UTC).isoformat(timespec='seconds')}"


ResultCheck = Callable[[EsqlResult], str | None]


async def obtain_result(
    context: ToolContext,
    parts: Parts,
    question: str,
    query: str | None = None,
    requirement: str = "",
    check: ResultCheck | None = None,
) -> QueryOutcome:
    """Runs `query` if given, else has one written; a query that fails (or whose result `check`
    rejects) goes back to the model with the error, at most `esql_tool_max_attempts` in all."""
    outcome = QueryOutcome()
    data: str | None = None
    for _ in range(context.settings.esql_tool_max_attempts):
        if query is None:
            if context.ask_model is None:
                raise ServiceUnavailable("no model is available to write the query")
            if data is None:
                data = await to_thread.run_sync(_data_context, context, parts, question)
            failed = [a for a in outcome.attempts if a.error]
            reply = await context.ask_model(_instructions(), _prompt(question, data, failed, requirement))
            query = extract_query(reply)
            if query is None:
                outcome.attempts.append(Attempt(reply.strip()[:300], "the answer contains no ES|QL query"))
                continue
        try:
            result = await run_authorized(context, parts.source, query)
        except (VigilError, ValueError) as exc:  # parsing, verification, rights, missing index
            outcome.attempts.append(Attempt(query, str(exc)))
            query = None
            continue
        problem = check(result) if check else None
        outcome.attempts.append(Attempt(query, problem))
        if problem is None:
            outcome.result = result
            return outcome
        query = None
    return outcome


def _data_context(context: ToolContext, parts: Parts, question: str) -> str:
    indices = readable_indices(parts.source, context.space_id)
    return render_context(indices, describe_indices(parts.source, indices, question, parts.privacy.policy))


@dataclass(frozen=True)
class VisibleRows:
    rows: list[dict[str, list[Any]]]  # anonymized, at most max_rows
    columns: list[str]  # the columns the model may see, in the result's order
    hidden: list[str]  # the columns the rules hide


def visible_rows(
    parts: Parts, query: str, result: EsqlResult, max_rows: int, omit: tuple[str, ...] = ()
) -> VisibleRows:
    """The first rows as the model may see them: each column anonymized (or hidden) as the
    fields it derives from; `omit` columns are left out without a word."""
    columns = [column.name for column in result.columns]
    policy = column_policy(columns, Lineage(parse(query), query), parts.privacy.policy)
    hidden = [c for c in columns if not policy.is_allowed(c) and c not in omit]
    shown = [c for c in columns if c not in hidden and c not in omit]
    rows = [{c: row[c] for c in shown} for row in rows_of(result)[:max_rows]]
    return VisibleRows(parts.privacy.anonymize_documents(rows, policy), shown, hidden)


def render_result(parts: Parts, query: str, result: EsqlResult, max_rows: int) -> tuple[str, list[str]]:
    """The first rows as a table the model may see, and the columns the rules hide."""
    visible = visible_rows(parts, query, result, max_rows)
    return render_table(visible.rows, visible.columns), visible.hidden


def describe_outcome(context: ToolContext, parts: Parts, question: str, outcome: QueryOutcome, source: str) -> str:
    """The tool's answer: the query and its first rows, or why no query worked."""
    limit = context.settings.esql_tool_max_attempts
    if outcome.result is None:
        last = outcome.attempts[-1] if outcome.attempts else None
        detail = f"\nLast query:\n```esql\n{last.query}\n```\nIts error: {last.error}" if last else ""
        return f"No working ES|QL query after {len(outcome.attempts)} attempts (limit {limit}).{detail}"
    query = outcome.query or ""
    reference = context.references.add("EsqlQuery", query=query, label=question[:120])
    table, hidden = render_result(parts, query, outcome.result, context.settings.esql_tool_max_rows)
    total = len(outcome.result.values)
    shown = min(total, context.settings.esql_tool_max_rows)
    summary = f"{total} rows" + (f", the first {shown} below" if shown < total else "")
    if hidden:
        summary += f"; columns hidden by the anonymization rules: {', '.join(hidden)}"
    note = (
        f"Vigil ran this ES|QL query (attempt {len(outcome.attempts)}); show it to the analyst in an esql "
        f"code block, cite it as {{reference({reference})}}, and summarise the result.\n"
        f"```esql\n{query}\n```\nResult: {summary}."
    )
    return frame(source, table, note=note)


class NaturalLanguageEsqlArgs(BaseModel):
    question: str = Field(
        min_length=1,
        max_length=2000,
        description="The question to answer from the data, with every detail the analyst gave "
        "(service, host, user, time range).",
    )
    query: str | None = Field(
        None,
        max_length=10_000,
        description="An ES|QL query you already wrote for it, to verify and run; omit it to have one written.",
    )


async def natural_language_esql(context: ToolContext, args: NaturalLanguageEsqlArgs) -> str:
    parts = require_parts(context)
    require_data_read(context.principal)
    outcome = await obtain_result(context, parts, args.question, args.query)
    return describe_outcome(context, parts, args.question, outcome, "natural_language_esql")


NATURAL_LANGUAGE_ESQL = AssistantTool(
    name="natural_language_esql",
    description=(
        "Answers a question about the organisation's logs, metrics, events or alerts by writing and running "
        "an ES|QL query over the data this analyst may read. Returns the query and the first rows of its result."
    ),
    parameters=NaturalLanguageEsqlArgs,
    handler=natural_language_esql,
    available=reads_data,
)
