"""A Vega-Lite spec from an ES|QL result: the first date column (else the first text column)
across, every numeric column up, and one text column, if any, as the series.

A time axis draws lines with points; categories draw bars. The data is inline, so the spec is
the whole chart and renders the same anywhere (Vigil's PNG, a notebook, the Vega editor).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vigil.esql.executor import EsqlResult

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WIDTH, HEIGHT = 640, 320
MAX_POINTS = 5000

_NUMERIC = frozenset({"long", "integer", "double", "float", "unsigned_long", "counter_long", "counter_double"})
_TEMPORAL = frozenset({"date", "date_nanos", "datetime"})
_CATEGORY = frozenset({"keyword", "text", "ip", "version", "boolean"})


class NotChartable(ValueError):
    """The result has no shape a chart can show; the message says what is missing."""


@dataclass(frozen=True)
class ChartShape:
    x: str
    x_temporal: bool
    y: tuple[str, ...]
    series: str | None


def shape_of(columns: Sequence[tuple[str, str]], rows: int) -> ChartShape:
    """Which column goes where, from (name, ES|QL type) pairs; NotChartable when none fits."""
    if rows == 0:
        raise NotChartable("the query returned no rows")
    if rows > MAX_POINTS:
        raise NotChartable(f"the query returned {rows} rows; aggregate it to at most {MAX_POINTS} points")
    temporal = [name for name, kind in columns if kind in _TEMPORAL]
    numeric = [name for name, kind in columns if kind in _NUMERIC]
    category = [name for name, kind in columns if kind in _CATEGORY]
    if temporal:
        x, x_temporal = temporal[0], True
    elif category:
        x, x_temporal = category[0], False
    else:
        raise NotChartable("a chart needs a date column (e.g. BUCKET(@timestamp, 1 hour)) or a category column")
    y = tuple(name for name in numeric if name != x)
    if not y:
        raise NotChartable("a chart needs a numeric column (e.g. count = COUNT(*))")
    series = next((name for name in category if name != x), None) if len(y) == 1 else None
    return ChartShape(x, x_temporal, y, series)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def fill_gaps(values: list[dict[str, Any]], shape: ChartShape, zero: frozenset[str]) -> list[dict[str, Any]]:
    """`STATS ... BY BUCKET(...)` leaves out empty buckets, and a line drawn across them would
    invent a trend: the missing steps of a regular time series are added, with 0 for counts
    (`zero`) and no value for other measures."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in values:
        groups.setdefault(row.get(shape.series) if shape.series else None, []).append(row)
    filled: list[dict[str, Any]] = []
    for series, rows in groups.items():
        times = sorted({t for row in rows if (t := _parse_time(row[shape.x])) is not None})
        steps = [later - earlier for earlier, later in itertools.pairwise(times)]
        step = min(steps, default=None)
        regular = step is not None and step.total_seconds() > 0 and all(s % step == timedelta(0) for s in steps)
        if not regular or step is None or (times[-1] - times[0]) / step > MAX_POINTS:
            filled.extend(rows)
            continue
        present = {_parse_time(row[shape.x]) for row in rows}
        moment = times[0]
        filled.extend(rows)
        while moment < times[-1]:
            moment += step
            if moment not in present:
                gap: dict[str, Any] = {shape.x: _format_time(moment)}
                gap.update({name: (0 if name in zero else None) for name in shape.y})
                if shape.series:
                    gap[shape.series] = series
                filled.append(gap)
    return sorted(filled, key=lambda row: str(row[shape.x]))


def build_spec(title: str, result: EsqlResult, zero_filled: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The spec; `zero_filled` names the measures that are counts (0 where a time step is missing)."""
    columns = [(column.name, column.type) for column in result.columns]
    shape = shape_of(columns, len(result.values))
    names = [name for name, _ in columns]
    wanted = [shape.x, *shape.y, *([shape.series] if shape.series else [])]
    values = [{name: row[names.index(name)] for name in wanted} for row in result.values]
    if shape.x_temporal:
        values = fill_gaps(values, shape, zero_filled)
    x_encoding: dict[str, Any] = {
        "field": shape.x,
        "type": "temporal" if shape.x_temporal else "nominal",
        "title": shape.x,
    }
    if shape.x_temporal:
        x_encoding["scale"] = {"type": "utc"}  # the same chart whatever the renderer's time zone
    else:
        x_encoding["sort"] = "-y"
    spec: dict[str, Any] = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": values},
        "mark": {"type": "line", "point": True} if shape.x_temporal else {"type": "bar"},
    }
    if len(shape.y) == 1:
        spec["encoding"] = {"x": x_encoding, "y": {"field": shape.y[0], "type": "quantitative", "title": shape.y[0]}}
        if shape.series:
            spec["encoding"]["color"] = {"field": shape.series, "type": "nominal", "title": shape.series}
    else:  # several measures: one line (or bar group) each
        spec["transform"] = [{"fold": list(shape.y), "as": ["measure", "value"]}]
        spec["encoding"] = {
            "x": x_encoding,
            "y": {"field": "value", "type": "quantitative"},
            "color": {"field": "measure", "type": "nominal"},
        }
    return spec
