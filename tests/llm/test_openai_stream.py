"""Vigil's lean Chat Completions path: the stream reader (`vigil.llm.providers.openai_stream`) and
the client that sends plain-JSON bodies without the SDK's transform (`openai_client`).

They replace only how a body is built and a stream parsed; what goes on the wire and what comes out
(parts, usage, finish reason, errors) must match pydantic-ai's own SDK-based reader. The
comparisons run both readers against the same real-HTTP fake provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai import AsyncOpenAI
from pydantic_ai.direct import model_request_stream
from pydantic_ai.exceptions import ModelAPIError, ModelConnectionError, UnexpectedModelBehavior
from pydantic_ai.messages import (
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters, StreamedResponse
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from vigil.llm import LlmSettings, build_model
from vigil.llm.providers.openai import ChatCompletionsModel
from vigil.llm.providers.openai_stream import ChatCompletionsStream, SSEDecoder
from vigil.testing.fake_openai import (
    FakeOpenAI,
    ToolCall,
    disconnect_after,
    malformed_stream,
    reply,
    tool_calls,
)

TIME_TOOL = ToolDefinition(
    name="current_time",
    description="The current time.",
    parameters_json_schema={"type": "object", "properties": {"timezone": {"type": "string"}}},
)


def lean_model(fake: FakeOpenAI) -> ChatCompletionsModel:
    model = build_model(
        ".gen-ai",
        {"apiProvider": "Other", "apiUrl": f"{fake.base_url}/chat/completions", "defaultModel": "fake-model"},
        {"apiKey": "sk-fake"},
        settings=LlmSettings(max_retries=0, request_timeout_seconds=5),
    )
    assert isinstance(model, ChatCompletionsModel)
    return model


def sdk_model(lean: ChatCompletionsModel) -> OpenAIChatModel:
    """pydantic-ai's own model over the OpenAI SDK's own client: the reference behaviour."""
    client = AsyncOpenAI(base_url=lean.client.base_url, api_key="sk-fake", max_retries=0, timeout=5)
    return OpenAIChatModel(lean.model_name, provider=OpenAIProvider(openai_client=client))


async def streamed(
    model: OpenAIChatModel,
    messages: list[ModelMessage],
    parameters: ModelRequestParameters | None = None,
    settings: ModelSettings | None = None,
) -> tuple[list[Any], ModelResponse]:
    async with model_request_stream(
        model, messages, model_settings=settings, model_request_parameters=parameters
    ) as stream:
        events = [event async for event in stream]
    return events, stream.get()


def run_both(
    fake: FakeOpenAI, *steps: Any, messages: list[ModelMessage] | None = None, **kwargs: Any
) -> tuple[tuple[list[Any], ModelResponse], tuple[list[Any], ModelResponse], list[Any]]:
    """The same scripted answer read by pydantic-ai's reader, then by Vigil's (one event loop:
    the SDK client's connection pool belongs to it)."""
    lean = lean_model(fake)
    messages = messages or [ModelRequest.user_text_prompt("What time is it?", instructions="You are Vigil.")]

    async def both() -> tuple[Any, Any]:
        fake.script(*steps)
        reference = await streamed(sdk_model(lean), messages, **kwargs)
        fake.script(*steps)
        return reference, await streamed(lean, messages, **kwargs)

    reference, ours = asyncio.run(both())
    sent = fake.chat_requests
    for header in ("content-type", "authorization"):
        assert sent[0].headers[header] == sent[1].headers[header]
    return reference, ours, [r.body for r in sent]


def comparable(response: ModelResponse) -> dict[str, Any]:
    return {
        "parts": [
            (type(p).__name__, getattr(p, "content", None), getattr(p, "tool_name", None), getattr(p, "args", None))
            for p in response.parts
        ],
        "input_tokens": response.usage.input_tokens,
        "output_tokens": response.usage.output_tokens,
        "finish_reason": response.finish_reason,
        "model_name": response.model_name,
        "provider_name": response.provider_name,
        "provider_response_id": response.provider_response_id is not None,
    }


def test_text_answer_matches_the_sdk_reader(fake: FakeOpenAI) -> None:
    (_, expected), (events, got), bodies = run_both(fake, reply("It is noon in the SOC."))
    assert comparable(got) == comparable(expected)
    assert got.text == "It is noon in the SOC." and got.usage.output_tokens == 6
    # Same request on the wire, streamed with usage.
    assert bodies[0] == bodies[1] and bodies[1]["stream"] is True
    assert bodies[1]["stream_options"] == {"include_usage": True}
    text = "".join(
        e.part.content if isinstance(e, PartStartEvent) else e.delta.content_delta
        for e in events
        if isinstance(e, PartStartEvent | PartDeltaEvent)
    )
    assert text == "It is noon in the SOC."


def test_tool_calls_match_the_sdk_reader(fake: FakeOpenAI) -> None:
    calls = tool_calls(ToolCall("current_time", {"timezone": "UTC"}, "call_1"), ToolCall("current_time", {}, "call_2"))
    history: list[ModelMessage] = [
        ModelRequest(parts=[UserPromptPart("what time is it?")]),
        ModelResponse(parts=[ToolCallPart("current_time", {}, "call_0")]),
        ModelRequest(parts=[ToolReturnPart("current_time", "12:00", "call_0")]),
        ModelResponse(parts=[TextPart("Noon.")]),
        ModelRequest(parts=[UserPromptPart("and in UTC and here?")], instructions="You are Vigil."),
    ]
    parameters = ModelRequestParameters(function_tools=[TIME_TOOL], allow_text_output=True)
    (_, expected), (_, got), bodies = run_both(
        fake, calls, messages=history, parameters=parameters, settings=ModelSettings(temperature=0.25)
    )
    assert comparable(got) == comparable(expected)
    assert [(p.tool_name, p.args_as_dict(), p.tool_call_id) for p in got.tool_calls] == [
        ("current_time", {"timezone": "UTC"}, "call_1"),
        ("current_time", {}, "call_2"),
    ]
    assert got.finish_reason == "tool_call"
    assert bodies[0] == bodies[1] and bodies[1]["temperature"] == 0.25 and bodies[1]["tools"]


async def failure(model: OpenAIChatModel) -> BaseException:
    with pytest.raises(ModelAPIError) as caught:
        await streamed(model, [ModelRequest.user_text_prompt("hi")])
    return caught.value


def test_malformed_stream_fails_like_the_sdk_reader(fake: FakeOpenAI) -> None:
    lean = lean_model(fake)

    async def both() -> list[BaseException]:
        fake.script(malformed_stream(), malformed_stream())
        return [await failure(sdk_model(lean)), await failure(lean)]

    for error in asyncio.run(both()):
        assert "Failed to decode response as JSON" in str(error)
        assert isinstance(error.__cause__, ValueError)


def test_dropped_connection_fails_like_the_sdk_reader(fake: FakeOpenAI) -> None:
    lean = lean_model(fake)

    async def both() -> list[BaseException]:
        fake.script(disconnect_after(3), disconnect_after(3))
        return [await failure(sdk_model(lean)), await failure(lean)]

    assert [type(error) for error in asyncio.run(both())] == [ModelConnectionError, ModelConnectionError]


# -- the reader on a byte source: framing, coalescing, thinking, in-stream errors ------------------


async def body_of(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def read(chunks: list[bytes], **fields: Any) -> tuple[list[Any], ModelResponse]:
    async def close() -> None:
        return None

    stream: StreamedResponse = ChatCompletionsStream(
        model_request_parameters=ModelRequestParameters(),
        _model_name="m",
        _provider_name="openai",
        _provider_url="http://provider.example/v1",
        _body=body_of(chunks),
        _close=close,
        **fields,
    )
    events = [event async for event in stream]
    return events, stream.get()


def sse(delta: dict[str, Any], finish: str | None = None) -> bytes:
    import orjson

    chunk = {"id": "c-1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def test_events_that_arrive_together_become_one_delta() -> None:
    # The first delta starts the text part on its own; later ones in the same read are joined.
    one_read = b"".join(sse({"content": token}) for token in ["Hello", " SOC", " team", ","])
    later = sse({"content": " all"}) + sse({"content": " clear."}) + sse({}, "stop") + b"data: [DONE]\n\n"
    events, response = asyncio.run(read([one_read, later]))
    texts = [
        e.part.content if isinstance(e, PartStartEvent) else e.delta.content_delta
        for e in events
        if isinstance(e, PartStartEvent | PartDeltaEvent)
    ]
    assert texts == ["Hello", " SOC team,", " all clear."]
    assert response.text == "Hello SOC team, all clear." and response.finish_reason == "stop"


def test_sse_framing_crlf_split_lines_and_multiline_data() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b': keep-alive comment\r\n\r\ndata: {"a"') == []
    assert decoder.feed(b":1}\r") == []  # the CR may be half of a CRLF
    assert decoder.feed(b"\n\r\n") == [(None, b'{"a":1}')]
    assert decoder.feed(b"event: error\ndata: line one\ndata: line two\n\n") == [(b"error", b"line one\nline two")]
    assert decoder.feed(b"data:no-space\n\n") == [(None, b"no-space")]


def test_reasoning_goes_to_a_thinking_part_not_the_answer() -> None:
    chunks = [
        sse({"reasoning_content": "The user wants"}),
        sse({"reasoning_content": " a greeting."}),
        sse({"content": "Hello."}),
        sse({}, "stop"),
    ]
    _, response = asyncio.run(read(chunks))
    assert [type(p) for p in response.parts] == [ThinkingPart, TextPart]
    assert response.parts[0].content == "The user wants a greeting." and response.text == "Hello."


def test_think_tags_survive_coalescing() -> None:
    # Everything in one read: the tags must still reach the parts manager as deltas of their own.
    tokens = ["<think>", "plan", " it", "</think>", "Answer", " now."]
    one_read = b"".join(sse({"content": token}) for token in tokens) + sse({}, "stop")
    _, response = asyncio.run(read([one_read], _thinking_tags=("<think>", "</think>")))
    assert [type(p) for p in response.parts] == [ThinkingPart, TextPart]
    assert response.parts[0].content == "plan it" and response.text == "Answer now."


def test_leading_whitespace_is_dropped_before_coalescing() -> None:
    one_read = sse({"content": "\n\n"}) + sse({"content": "Hi"}) + sse({"content": " there"}) + sse({}, "stop")
    _, response = asyncio.run(read([one_read], _ignore_leading_whitespace=True))
    assert response.text == "Hi there"


def test_usage_and_error_inside_the_stream() -> None:
    import orjson

    usage = {"id": "c-1", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}
    chunks = [sse({"content": "Hi"}), sse({}, "length"), b"data: " + orjson.dumps(usage) + b"\n\n"]
    _, response = asyncio.run(read(chunks))
    assert (response.usage.input_tokens, response.usage.output_tokens) == (11, 3)
    assert response.finish_reason == "length"

    failing = [sse({"content": "Hi"}), b'data: {"error": {"message": "upstream overloaded", "code": "x"}}\n\n']
    with pytest.raises(ModelAPIError, match="upstream overloaded"):
        asyncio.run(read(failing))
    with pytest.raises(UnexpectedModelBehavior):
        asyncio.run(read([b": nothing but a comment\n\n"]))


def test_non_text_content_goes_through_the_sdk_transform(fake: FakeOpenAI) -> None:
    # An image part is left to the SDK's own `create`; the body must still match the reference.
    prompt = UserPromptPart(["Is this the attacker's console?", ImageUrl("https://vigil.example/screen.png")])
    messages: list[ModelMessage] = [ModelRequest(parts=[prompt])]
    (_, expected), (_, got), bodies = run_both(fake, reply("No."), messages=messages)
    assert comparable(got) == comparable(expected)
    assert bodies[0] == bodies[1]
    assert bodies[1]["messages"][0]["content"][1]["image_url"]["url"] == "https://vigil.example/screen.png"
