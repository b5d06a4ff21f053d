"""Streamed chat completions received over aiohttp instead of the OpenAI SDK's httpx2.

Every token of a streamed answer is one network read. Through httpx2 (pure-Python HTTP/1.1
parsing: h11, httpcore2, anyio timeouts) a read costs ~320 Python calls; through aiohttp, whose
HTTP parser is C, ~90 (`bench/chat.py`, docs/benchmarks.md). At hundreds of concurrent streams
that is most of a worker's CPU.

Only the transport changes. The request is the SDK's own: URL (Azure's deployment path and
`api-version` included), headers (auth, connector headers, user agent), retry policy (408, 409,
429 and 5xx and connection failures, `Retry-After` honoured, exponential backoff with jitter)
and error types all come from the SDK client, so pydantic-ai maps failures exactly as before.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import certifi
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from openai import APIConnectionError, APITimeoutError, AsyncOpenAI
from openai._models import FinalRequestOptions
from yarl import URL

# Request headers aiohttp sets itself (or that describe httpx2's encoding of the body).
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "accept-encoding"})
# The SDK's default pool size (openai.DEFAULT_CONNECTION_LIMITS): one connection per open stream.
MAX_CONNECTIONS = 1000


@dataclass
class OpenedStream:
    """A 200 response whose body (SSE) is being received."""

    response: aiohttp.ClientResponse
    request: httpx2.Request  # as the SDK built it: for the SDK's error types

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, transport failures raised as the SDK raises them mid-stream."""
        try:
            async for chunk in self.response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise APITimeoutError(request=self.request) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise APIConnectionError(request=self.request) from exc

    async def aclose(self) -> None:
        self.response.close()  # drops the connection unless the body was read to its end


@dataclass
class ChatStreamTransport:
    """Opens streamed chat completions for one SDK client, with aiohttp sessions per event loop
    (a session, like its connections, belongs to the loop that made it)."""

    client: AsyncOpenAI
    connect_timeout: float
    read_timeout: float
    _sessions: dict[asyncio.AbstractEventLoop, _LoopSession] = field(default_factory=dict)
    _ssl: ssl.SSLContext | None = None
    _proxies: dict[tuple[str, str | None, int | None], tuple[URL | None, aiohttp.BasicAuth | None]] = field(
        default_factory=dict
    )

    def supports(self) -> bool:
        """Clients with custom auth (workload identity, token providers) keep the SDK's transport."""
        return self.client.custom_auth is None

    async def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        current = self._sessions.get(loop)
        if current is not None and not current.session.closed:
            return current.session
        for old in [old for old in self._sessions if old.is_closed()]:
            del self._sessions[old]  # sessions of finished loops (tests run one loop each)
        if self._ssl is None:
            # The CA bundle httpx2 verifies with; loading it costs ~30 ms, so once per client.
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=self._ssl),
            # Not trust_env: it reads ~/.netrc and the proxy variables in a worker thread on every
            # request (two thread hops); proxies are looked up once per origin below instead.
            timeout=aiohttp.ClientTimeout(total=None, connect=self.connect_timeout, sock_read=self.read_timeout),
        )
        self._sessions[loop] = _LoopSession(session, await _closed_when_the_loop_ends(session))
        return session

    def _proxy(self, url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """HTTP(S)_PROXY / ALL_PROXY unless NO_PROXY excludes the host, as httpx2 honours them."""
        key = (url.scheme, url.host, url.port)
        if key not in self._proxies:
            try:
                self._proxies[key] = get_env_proxy_for_url(url)
            except LookupError:
                self._proxies[key] = (None, None)
        return self._proxies[key]

    async def open(self, body: bytes, extra_headers: Mapping[str, str] | None) -> OpenedStream:
        """POST /chat/completions with `body` (JSON asking for a stream), retried as the SDK
        retries; raises the SDK's errors (APIStatusError subclasses, APITimeoutError,
        APIConnectionError) once retries are spent."""
        client = self.client
        options = FinalRequestOptions.construct(
            method="post",
            url="/chat/completions",
            content=body,
            headers=dict(extra_headers) if extra_headers else {},
            security={"bearer_auth": True},
        )
        options = await client._prepare_options(options)
        max_retries = options.get_max_retries(client.max_retries)
        session = await self._session()
        for retries_taken in range(max_retries + 1):
            remaining = max_retries - retries_taken
            request = client._build_request(options, retries_taken=retries_taken)
            await client._prepare_request(request)
            headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _OWN_HEADERS]
            url = URL(str(request.url), encoded=True)
            proxy, proxy_auth = self._proxy(url)
            try:
                response = await session.post(url, data=body, headers=headers, proxy=proxy, proxy_auth=proxy_auth)
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                if remaining > 0:
                    await asyncio.sleep(client._calculate_retry_timeout(remaining, options, None))
                    continue
                raise APITimeoutError(request=request) from exc
            except (aiohttp.ClientError, OSError) as exc:
                if remaining > 0:
                    await asyncio.sleep(client._calculate_retry_timeout(remaining, options, None))
                    continue
                raise APIConnectionError(request=request) from exc
            if response.status < 400:
                return OpenedStream(response, request)
            failed = await _as_httpx2(response, request)
            if remaining > 0 and client._should_retry(failed):
                await asyncio.sleep(client._calculate_retry_timeout(remaining, options, failed.headers))
                continue
            raise client._make_status_error_from_response(failed)
        raise AssertionError("unreachable: the last attempt returns or raises")


@dataclass
class _LoopSession:
    session: aiohttp.ClientSession
    keeper: AsyncGenerator[None]


async def _closed_when_the_loop_ends(session: aiohttp.ClientSession) -> AsyncGenerator[None]:
    """A started async generator that closes `session` when finalized. An event loop finalizes
    the async generators still alive when it shuts down (`asyncio.run`, uvicorn: the loop's
    `shutdown_asyncgens`), so the session and its connections are closed at the end of the loop
    that owns them, without a shutdown hook in every caller."""

    async def keeper() -> AsyncGenerator[None]:
        try:
            yield
        finally:
            await session.close()

    started = keeper()
    await anext(started)
    return started


async def _as_httpx2(response: aiohttp.ClientResponse, request: httpx2.Request) -> httpx2.Response:
    """An error response in the shape the SDK's retry policy and error types read."""
    try:
        content = await response.read()
    except (aiohttp.ClientError, OSError, TimeoutError):
        content = b""
    finally:
        response.release()
    headers: list[tuple[str, Any]] = [(k, v) for k, v in response.headers.items()]
    return httpx2.Response(response.status, headers=headers, content=content, request=request)
