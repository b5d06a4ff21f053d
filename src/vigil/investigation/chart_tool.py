"""The chart tool: a question (or an ES|QL query) becomes a query result, the result a Vega-Lite
chart stored with the conversation; the answer links the PNG and cites it."""

from __future__ import annotations

from anyio import to_thread
from pydantic import BaseModel, Field

from vigil.agent.links import space_prefix
from vigil.agent.tools import AssistantTool, ToolContext
from vigil.charts import service as charts
from vigil.charts.routes import chart_path
from vigil.charts.spec import NotChartable, build_spec, shape_of
from vigil.esql.executor import EsqlResult
from vigil.esql.parser import parse
from vigil.investigation.access import reads_data, require_data_read
from vigil.investigation.esql_runner import require_parts
from vigil.investigation.lineage import counting_columns
from vigil.investigation.nl_esql import describe_outcome, obtain_result

CHART_REQUIREMENT = (
    "The result is drawn as a chart: return one date column (for a time series, "
    "BUCKET(@timestamp, <interval>) in STATS ... BY, sorted by it) or one category column, "
    "and one or more numeric columns; at most a few hundred rows."
)


def chartable(result: EsqlResult) -> str | None:
    try:
        shape_of([(c.name, c.type) for c in result.columns], len(result.values))
    except NotChartable as exc:
        return f"the result cannot be charted: {exc}"
    return None


class ChartArgs(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="The chart's title, e.g. 'Checkout errors per hour'.")
    question: str = Field(
        min_length=1,
        max_length=2000,
        description="What to chart, with every detail: measure, filters, time range and interval.",
    )
    query: str | None = Field(
        None, max_length=10_000, description="An ES|QL query that returns the series, if you already wrote one."
    )


async def create_chart(context: ToolContext, args: ChartArgs) -> str:
    parts = require_parts(context)
    require_data_read(context.principal)
    outcome = await obtain_result(context, parts, args.question, args.query, CHART_REQUIREMENT, chartable)
    answer = describe_outcome(context, parts, args.question, outcome, "create_chart")
    if outcome.result is None or outcome.query is None:
        return answer
    query = outcome.query
    spec = build_spec(args.title, outcome.result, counting_columns(parse(query), query))

    def store() -> str:
        with context.database.session() as session:
            chart = charts.create(
                session,
                context.principal,
                context.space_id,
                context.conversation_id,
                args.title,
                query,
                spec,
            )
            return chart.id

    chart_id = await to_thread.run_sync(store)
    url = context.settings.resolved_public_base_url + space_prefix(context.space_id) + chart_path(chart_id, png=True)
    reference = context.references.add("Href", href=url, label=args.title)
    return (
        f"Chart stored ({len(outcome.result.values)} points). Show it to the analyst as ![{args.title}]({url}) "
        f"and cite it as {{reference({reference})}}.\n\n{answer}"
    )


CREATE_CHART = AssistantTool(
    name="create_chart",
    description=(
        "Draws a chart of the organisation's data (for example error count per hour for one service over the "
        "last 24 hours): writes and runs the ES|QL query, stores the chart with this conversation, and returns "
        "its image link."
    ),
    parameters=ChartArgs,
    handler=create_chart,
    available=reads_data,
)
