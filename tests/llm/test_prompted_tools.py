from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_ai.messages import TextPart, ToolCallPart
from pydantic_ai.tools import ToolDefinition

from vigil.llm.prompted_tools import (
    format_tool_call,
    parse_tool_call,
    render_tools_prompt,
    response_parts,
)

TOOLS = [
    ToolDefinition(
        name="get_time",
        description="Current time in a time zone.",
        parameters_json_schema={
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    ),
    ToolDefinition(name="list_alerts", parameters_json_schema={"type": "object", "properties": {}}),
]


def test_prompt_describes_tools_and_format() -> None:
    prompt = render_tools_prompt(TOOLS)
    assert '{"tool": "<tool name>", "arguments": {' in prompt
    assert "- get_time: Current time in a time zone." in prompt
    assert '"tz":{"type":"string"}' in prompt
    assert '["tz"]' in prompt
    assert "- list_alerts" in prompt
    assert render_tools_prompt([]) == ""


def test_bare_call() -> None:
    call = parse_tool_call('{"tool": "get_time", "arguments": {"tz": "UTC"}}', TOOLS)
    assert call is not None
    assert (call.name, call.arguments) == ("get_time", {"tz": "UTC"})
    assert call.tool_call_id.startswith("call_")


def test_call_inside_prose_and_fence() -> None:
    text = 'Let me check.\n```json\n{"tool": "get_time", "arguments": {"tz": "CET"}}\n```\nDone.'
    call = parse_tool_call(text, TOOLS)
    assert call is not None and call.arguments == {"tz": "CET"}
    text = 'Sure {not json} then {"tool": "get_time", "arguments": {"tz": "EST"}} trailing'
    call = parse_tool_call(text, TOOLS)
    assert call is not None and call.arguments == {"tz": "EST"}


def test_alternative_spellings() -> None:
    call = parse_tool_call('{"name": "get_time", "parameters": {"tz": "UTC"}}', TOOLS)
    assert call is not None and call.arguments == {"tz": "UTC"}
    call = parse_tool_call('{"function": {"name": "get_time", "arguments": "{\\"tz\\": \\"UTC\\"}"}}', TOOLS)
    assert call is not None and call.arguments == {"tz": "UTC"}
    call = parse_tool_call('{"tool": "list_alerts"}', TOOLS)
    assert call is not None and call.arguments == {}


def test_invalid_calls_are_text() -> None:
    for text in [
        "no call here",
        '{"tool": "rm_rf", "arguments": {}}',  # unknown tool
        '{"tool": "get_time", "arguments": [1, 2]}',  # arguments not an object
        '{"tool": "get_time", "arguments": "{broken"}',
        '{"tool": 5}',
        '{"tool": "get_time", "arguments": {"tz": "UTC"}',  # unterminated
        '["get_time"]',
    ]:
        assert parse_tool_call(text, TOOLS) is None, text
        assert response_parts(text, TOOLS) == [TextPart(content=text)]


def test_response_parts() -> None:
    (part,) = response_parts('{"tool": "get_time", "arguments": {"tz": "UTC"}}', TOOLS)
    assert isinstance(part, ToolCallPart)
    assert part.tool_name == "get_time"
    assert part.args_as_dict() == {"tz": "UTC"}
    # Without tools on offer, a call-shaped answer is just text.
    text = '{"tool": "get_time", "arguments": {}}'
    assert response_parts(text, []) == [TextPart(content=text)]


def test_format_round_trips() -> None:
    text = format_tool_call("get_time", {"tz": "UTC"})
    assert json.loads(text) == {"tool": "get_time", "arguments": {"tz": "UTC"}}
    call = parse_tool_call(text, TOOLS)
    assert call is not None and call.arguments == {"tz": "UTC"}


def test_deep_nesting_does_not_raise() -> None:
    text = '{"tool": "get_time", "arguments": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert parse_tool_call(text, TOOLS) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    parts = response_parts(text, TOOLS)
    assert len(parts) == 1
    assert parse_tool_call(text) is None or "{" in text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), json_values, st.text(max_size=40))
def test_json_embedded_in_text_never_raises(before: str, value: object, after: str) -> None:
    text = before + json.dumps({"tool": "get_time", "arguments": value}) + after
    call = parse_tool_call(text, TOOLS)
    if call is not None:
        assert call.name == "get_time"
        assert isinstance(call.arguments, dict)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=4))
def test_valid_calls_are_found(arguments: dict[str, object]) -> None:
    call = parse_tool_call("Calling: " + format_tool_call("get_time", arguments), TOOLS)
    assert call is not None
    assert call.arguments == arguments
