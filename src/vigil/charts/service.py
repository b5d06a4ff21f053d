"""Storing charts and deciding who may read one: whoever may read its conversation (the
conversations' own visibility rule), or only its creator when it belongs to no conversation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from vigil.auth.principal import Principal
from vigil.charts.models import Chart
from vigil.conversations import service as conversations
from vigil.errors import NotFound


def create(
    session: Session,
    principal: Principal,
    space_id: str,
    conversation_id: str | None,
    title: str,
    query: str,
    spec: dict[str, Any],
) -> Chart:
    chart = Chart(
        id=str(uuid.uuid4()),
        namespace=space_id,
        conversation_id=conversation_id,
        created_by_id=principal.user_id,
        created_by_name=principal.username,
        title=title,
        query=query,
        spec=spec,
    )
    session.add(chart)
    session.flush()
    return chart


def get_readable(session: Session, principal: Principal, space_id: str, chart_id: str) -> Chart:
    """The chart, or NotFound when it does not exist here or the caller may not read it (never
    403: as for conversations, a chart one cannot read does not exist for them)."""
    chart = session.get(Chart, chart_id)
    missing = NotFound(f'chart id: "{chart_id}" not found')
    if chart is None or chart.namespace != space_id:
        raise missing
    if chart.conversation_id is None:
        if chart.created_by_id != principal.user_id:
            raise missing
        return chart
    try:
        conversations.get_visible(session, principal, space_id, chart.conversation_id)
    except NotFound:
        raise missing from None
    return chart
