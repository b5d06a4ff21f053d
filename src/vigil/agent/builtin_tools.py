"""Tools every assistant has: the current time and the link to the conversation."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from vigil.agent.links import conversation_url
from vigil.agent.tools import AssistantTool, ToolContext


class CurrentTimeArgs(BaseModel):
    timezone: str = Field("UTC", description="IANA time zone, e.g. UTC or Europe/Paris.")


async def _current_time(context: ToolContext, args: CurrentTimeArgs) -> str:
    try:
        zone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {args.timezone!r}; use an IANA name such as UTC or Europe/Paris."
    now = datetime.now(UTC).astimezone(zone)
    lines = [f"Current time: {now.isoformat(timespec='seconds')} ({args.timezone})"]
    if context.conversation_id:
        link = conversation_url(context.settings, context.space_id, context.conversation_id)
        lines.append(f"Link to this conversation: {link}")
    return "\n".join(lines)


CURRENT_TIME = AssistantTool(
    name="current_time",
    description="Returns the current date and time, and the link to this conversation when it is saved.",
    parameters=CurrentTimeArgs,
    handler=_current_time,
)

BUILTIN_TOOLS = (CURRENT_TIME,)
