"""HTTP routes of charts: `GET /api/vigil/charts/{id}` (the chart, `?format=vega-lite` for the
bare spec, `?format=png` for the image) and `GET /api/vigil/charts/{id}.png`."""

from __future__ import annotations

from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from vigil.auth.principal import Principal
from vigil.charts import service
from vigil.charts.models import Chart
from vigil.charts.render import render_png
from vigil.conversations.service import kibana_timestamp
from vigil.db.engine import Database
from vigil.errors import Forbidden
from vigil.web.deps import AssistantReader, Db, SpaceId
from vigil.web.openapi import kibana_error_responses

CHARTS = "/api/vigil/charts"

router = APIRouter(tags=["charts"], responses=kibana_error_responses(400, 401, 403, 404))


def chart_path(chart_id: str, png: bool = False) -> str:
    return f"{CHARTS}/{chart_id}" + (".png" if png else "")


def _require_data_read(request: Request, principal: Principal) -> None:
    # A chart holds the rows of the query it came from: reading it is reading that data.
    if not principal.grants.data_read:
        raise Forbidden(
            f"API [{request.method} {request.url.path}] is unauthorized for user [{principal.username}]: "
            "charts show indexed data, which needs the data read privilege"
        )


def _load(request: Request, database: Database, principal: Principal, space_id: str, chart_id: str) -> Chart:
    _require_data_read(request, principal)
    with database.session(readonly=True) as session:
        chart = service.get_readable(session, principal, space_id, chart_id)
        session.expunge(chart)
        return chart


async def _png(chart: Chart) -> Response:
    image = await to_thread.run_sync(render_png, chart.spec)
    return Response(image, media_type="image/png", headers={"cache-control": "private, max-age=300"})


@router.get(
    f"{CHARTS}/{{chart_id}}.png",
    operation_id="GetChartPng",
    summary="A chart as a PNG image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def get_chart_png(request: Request, chart_id: str, database: Db, principal: AssistantReader, space_id: SpaceId):
    chart = await to_thread.run_sync(_load, request, database, principal, space_id, chart_id)
    return await _png(chart)


@router.get(
    f"{CHARTS}/{{chart_id}}",
    operation_id="GetChart",
    summary="A chart: its title, query and Vega-Lite spec, or only the spec, or a PNG",
    responses={200: {"content": {"image/png": {}}}},
)
async def get_chart(
    request: Request,
    chart_id: str,
    database: Db,
    principal: AssistantReader,
    space_id: SpaceId,
    format: Annotated[Literal["json", "vega-lite", "png"], Query()] = "json",
) -> Response:
    chart = await to_thread.run_sync(_load, request, database, principal, space_id, chart_id)
    if format == "png":
        return await _png(chart)
    if format == "vega-lite":
        return JSONResponse(chart.spec)
    return JSONResponse(
        {
            "id": chart.id,
            "title": chart.title,
            "query": chart.query,
            "conversationId": chart.conversation_id,
            "createdAt": kibana_timestamp(chart.created_at),
            "createdBy": {"id": chart.created_by_id, "name": chart.created_by_name},
            "spec": chart.spec,
            "png": chart_path(chart.id, png=True),
        }
    )
