"""PNG rendering of a chart's Vega-Lite spec with vl-convert (Vega and Vega-Lite compiled into a
Python extension: no browser, no network; docs/dependencies.md says why this one)."""

from __future__ import annotations

from typing import Any

import vl_convert

# Twice the spec's size: sharp on high-density screens, still a small file.
PNG_SCALE = 2.0


def render_png(spec: dict[str, Any]) -> bytes:
    """The chart as PNG bytes. CPU-bound (tens of milliseconds): call it off the event loop."""
    return bytes(vl_convert.vegalite_to_png(spec, scale=PNG_SCALE))
