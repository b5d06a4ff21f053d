"""The investigation tools, as registered with the assistant (vigil.chat.wiring)."""

from __future__ import annotations

from vigil.investigation.alerts import ALERT_COUNTS, OPEN_AND_ACKNOWLEDGED_ALERTS
from vigil.investigation.chart_tool import CREATE_CHART
from vigil.investigation.nl_esql import NATURAL_LANGUAGE_ESQL

INVESTIGATION_TOOLS = (OPEN_AND_ACKNOWLEDGED_ALERTS, ALERT_COUNTS, NATURAL_LANGUAGE_ESQL, CREATE_CHART)
