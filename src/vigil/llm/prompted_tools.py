"""Tool calling for models without native tool calls: tools described in the prompt, calls parsed from text.

The system prompt gets a description of each tool and asks the model to answer with a JSON block
``{"tool": "<name>", "arguments": {...}}`` when it wants a tool. :func:`parse_tool_call` finds such
a block in the model's text (fenced or bare, also tolerating the common ``name``/``parameters``
spellings); :func:`response_parts` turns the text into a pydantic-ai ``ToolCallPart`` when a valid
call to a known tool is found, else a ``TextPart``. Nothing here raises on any model output.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import ModelResponsePart, TextPart, ToolCallPart
from pydantic_ai.tools import ToolDefinition

__all__ = [
    "ParsedToolCall",
    "format_tool_call",
    "parse_tool_call",
    "render_tools_prompt",
    "response_parts",
]

# Bounds that keep parsing linear-ish on adversarial output.
MAX_SCAN_CHARS = 100_000
MAX_CANDIDATES = 64

_NAME_KEYS = ("tool", "name", "tool_name", "function")
_ARGUMENT_KEYS = ("arguments", "args", "parameters", "input")
_FENCE = re.compile(r"```(?:json|JSON|tool_call|tool)?\s*\n?(.*?)```", re.DOTALL)
_decoder = json.JSONDecoder()


@dataclass(frozen=True)
class ParsedToolCall:
    name: str
    arguments: dict[str, Any]
    tool_call_id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")

    def to_part(self) -> ToolCallPart:
        return ToolCallPart(tool_name=self.name, args=self.arguments, tool_call_id=self.tool_call_id)


def render_tools_prompt(tools: Sequence[ToolDefinition]) -> str:
    """The system-prompt section that describes ``tools`` and the expected call format."""
    if not tools:
        return ""
    lines = [
        "You can call tools. To call one, answer with ONLY a JSON object of this form and nothing else:",
        '{"tool": "<tool name>", "arguments": {<arguments as JSON>}}',
        "When you do not need a tool, answer normally in plain text.",
        "Available tools:",
    ]
    for tool in tools:
        schema = json.dumps(tool.parameters_json_schema.get("properties", {}), separators=(",", ":"))
        required = tool.parameters_json_schema.get("required", [])
        description = (tool.description or "").strip().replace("\n", " ")
        line = f"- {tool.name}: {description}" if description else f"- {tool.name}"
        lines.append(f"{line} Arguments: {schema}" + (f" Required: {json.dumps(required)}" if required else ""))
    return "\n".join(lines)


def format_tool_call(name: str, arguments: Mapping[str, Any]) -> str:
    """How a past tool call is shown back to the model in the conversation history."""
    return json.dumps({"tool": name, "arguments": dict(arguments)}, separators=(", ", ": "))


def _candidates(text: str) -> Iterator[Any]:
    """JSON values found in ``text``: fenced blocks first, then each ``{`` that starts a JSON object."""
    text = text[:MAX_SCAN_CHARS]
    found = 0
    for match in _FENCE.finditer(text):
        found += 1
        if found > MAX_CANDIDATES:
            return
        try:
            value = json.loads(match.group(1).strip())
        except ValueError:
            continue
        yield value
    start = text.find("{")
    while start != -1 and found < MAX_CANDIDATES:
        found += 1
        try:
            value, end = _decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        yield value
        start = text.find("{", end)


def _as_call(value: Any, known: Mapping[str, ToolDefinition] | None) -> ParsedToolCall | None:
    if not isinstance(value, dict):
        return None
    # OpenAI-style {"function": {"name": ..., "arguments": ...}} nests the call one level down.
    if isinstance(value.get("function"), dict):
        value = value["function"]
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    if not name:
        return None
    name = name.strip()
    if known is not None and name not in known:
        return None
    arguments: Any = next((value[k] for k in _ARGUMENT_KEYS if k in value), {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return None
    return ParsedToolCall(name=name, arguments=arguments)


def parse_tool_call(text: str, tools: Sequence[ToolDefinition] | None = None) -> ParsedToolCall | None:
    """The first valid tool call in ``text`` (to one of ``tools`` when given), or ``None``. Never raises."""
    if not isinstance(text, str) or "{" not in text:
        return None
    known = {tool.name: tool for tool in tools} if tools is not None else None
    try:
        for value in _candidates(text):
            call = _as_call(value, known)
            if call is not None:
                return call
    except RecursionError:  # deeply nested JSON
        return None
    return None


def response_parts(text: str, tools: Sequence[ToolDefinition]) -> list[ModelResponsePart]:
    """``[ToolCallPart]`` when ``text`` holds a valid call to one of ``tools``, else ``[TextPart(text)]``."""
    if tools:
        call = parse_tool_call(text, tools)
        if call is not None:
            return [call.to_part()]
    return [TextPart(content=text)]
