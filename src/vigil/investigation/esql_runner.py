"""Running ES|QL for a tool: off the event loop, on the turn's data source (the embedded store or
a cluster), with the caller's index rights checked against what the query reads before it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anyio import to_thread

from vigil.agent.tools import ToolContext, ToolPrivacy
from vigil.datasource import DataSource
from vigil.errors import BadRequest, ServiceUnavailable
from vigil.esql import ast
from vigil.esql.executor import EsqlResult
from vigil.esql.parser import parse
from vigil.investigation.access import check_indices


@dataclass(frozen=True)
class Parts:
    source: DataSource
    privacy: ToolPrivacy


def require_parts(context: ToolContext) -> Parts:
    """The data source and the turn's anonymization; a tool without both must not run."""
    if context.data_source is None:
        raise ServiceUnavailable("no data source is configured on this server")
    if context.privacy is None:
        raise ServiceUnavailable("anonymization is not set up for this turn; data tools are disabled")
    return Parts(context.data_source, context.privacy)


def sources_of(query: ast.Query) -> list[ast.IndexPattern]:
    """Every index expression the query reads: FROM and LOOKUP JOIN sources."""
    sources = list(query.source.sources) if isinstance(query.source, ast.From) else []
    sources += [command.index for command in query.commands if isinstance(command, ast.LookupJoin)]
    return sources


def authorize(context: ToolContext, data: DataSource, query: ast.Query) -> None:
    """Raises unless the caller may read every index the query names (resolved now, so a
    wildcard that reaches another space's alerts is refused, not silently narrowed)."""
    sources = sources_of(query)
    if any(source.cluster for source in sources):
        raise BadRequest("remote clusters cannot be queried from the assistant")
    if any(isinstance(command, ast.Enrich) for command in query.commands):
        raise BadRequest("ENRICH is not available to the assistant")
    for source in sources:
        check_indices(context.principal, context.space_id, data.resolve(source.index))


async def run_authorized(context: ToolContext, source: DataSource, text: str, params: Any = None) -> EsqlResult:
    query = parse(text)
    await to_thread.run_sync(authorize, context, source, query)  # resolving may ask the cluster
    return await to_thread.run_sync(source.esql, text, params)


def rows_of(result: EsqlResult) -> list[dict[str, Any]]:
    names = [column.name for column in result.columns]
    return [dict(zip(names, row, strict=True)) for row in result.values]
