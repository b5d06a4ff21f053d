"""How many alerts a turn's alert tools may hand the model ("alerts to analyze").

The request's `size` wins and, on a saved conversation, is remembered for its later turns; then
the conversation's remembered value; then the server's `assistant_alerts_to_analyze`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from vigil.investigation.models import ConversationAlertsSetting


def alerts_to_analyze(
    session: Session, conversation_id: str | None, requested: int | None, default: int, *, remember: bool = True
) -> int:
    """The turn's value; with `remember`, a requested value is stored on the conversation."""
    if conversation_id is None:
        return requested or default
    stored = session.get(ConversationAlertsSetting, conversation_id)
    if requested is None:
        return stored.alerts_to_analyze if stored else default
    if not remember:
        return requested
    if stored is None:
        session.add(ConversationAlertsSetting(conversation_id=conversation_id, alerts_to_analyze=requested))
    else:
        stored.alerts_to_analyze = requested
    return requested
