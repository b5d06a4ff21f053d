"""From an ES|QL result to a Vega-Lite spec, and the spec to a PNG."""

from __future__ import annotations

import pytest

from vigil.charts.render import render_png
from vigil.charts.spec import NotChartable, build_spec, shape_of
from vigil.esql.executor import EsqlColumn, EsqlResult


def result(columns: list[tuple[str, str]], rows: list[list]) -> EsqlResult:
    return EsqlResult([EsqlColumn(name, kind) for name, kind in columns], rows)


def test_a_time_series_is_a_line_with_its_missing_counts_at_zero() -> None:
    series = result(
        [("errors", "long"), ("hour", "date")],
        [[3, "2024-05-01T10:00:00.000Z"], [1, "2024-05-01T13:00:00.000Z"], [2, "2024-05-01T14:00:00.000Z"]],
    )
    spec = build_spec("Errors", series, frozenset({"errors"}))
    assert spec["mark"] == {"type": "line", "point": True}
    assert spec["encoding"]["x"] == {"field": "hour", "type": "temporal", "title": "hour", "scale": {"type": "utc"}}
    assert spec["encoding"]["y"]["field"] == "errors"
    assert [(v["hour"][11:13], v["errors"]) for v in spec["data"]["values"]] == [
        ("10", 3),
        ("11", 0),
        ("12", 0),
        ("13", 1),
        ("14", 2),
    ]


def test_a_missing_step_of_a_measure_that_is_not_a_count_stays_empty() -> None:
    rows = [[0.5, "2024-05-01T10:00:00.000Z"], [0.6, "2024-05-01T10:10:00.000Z"], [0.7, "2024-05-01T10:30:00.000Z"]]
    values = build_spec("Latency", result([("avg", "double"), ("t", "date")], rows))["data"]["values"]
    assert [v["avg"] for v in values] == [0.5, 0.6, None, 0.7]


def test_one_text_column_makes_the_series() -> None:
    per_service = result(
        [("n", "long"), ("t", "date"), ("service.name", "keyword")],
        [[1, "2024-05-01T10:00:00.000Z", "cart"], [2, "2024-05-01T10:00:00.000Z", "checkout"]],
    )
    spec = build_spec("Per service", per_service, frozenset({"n"}))
    assert spec["encoding"]["color"] == {"field": "service.name", "type": "nominal", "title": "service.name"}


def test_categories_are_bars_and_several_measures_are_folded() -> None:
    spec = build_spec("Hosts", result([("host", "keyword"), ("n", "long")], [["a", 3], ["b", 5]]))
    assert spec["mark"] == {"type": "bar"} and spec["encoding"]["x"]["sort"] == "-y"
    both = build_spec(
        "Both", result([("t", "date"), ("a", "long"), ("b", "double")], [["2024-05-01T10:00:00.000Z", 1, 2.5]])
    )
    assert both["transform"] == [{"fold": ["a", "b"], "as": ["measure", "value"]}]
    assert both["encoding"]["color"] == {"field": "measure", "type": "nominal"}


@pytest.mark.parametrize(
    ("columns", "rows", "message"),
    [
        ([("n", "long")], [], "no rows"),
        ([("n", "long"), ("m", "double")], [[1, 2.0]], "a date column"),
        ([("host", "keyword"), ("t", "date")], [["a", "2024-05-01T10:00:00.000Z"]], "a numeric column"),
    ],
)
def test_results_that_cannot_be_charted_say_why(columns, rows, message: str) -> None:
    with pytest.raises(NotChartable, match=message):
        shape_of(columns, len(rows))


def test_the_spec_renders_to_png() -> None:
    spec = build_spec("Hosts", result([("host", "keyword"), ("n", "long")], [["a", 3], ["b", 5]]))
    image = render_png(spec)
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 1000
