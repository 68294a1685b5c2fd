"""The connection pool under the transport: httpcore's pool on plain asyncio connections.

httpx's request and response objects, its URL parsing and its transport's conversions were
about a third of a request's CPU, and anyio's stream layer (a cancel scope and a checkpoint
around every read and write) a good part of the rest; the transport now hands httpcore's
pool ready header lines and a body, over :class:`AsyncioStream`, a connection that is an
``asyncio.Protocol``. The pool itself is httpcore's, as httpx configures it: the same
keep-alive, limits, per-read timeouts and HTTP/1.1 parsing (h11), and httpx's exceptions.

httpcore writes a request's head and its body in two writes, and on loopback each ``send``
costs about what parsing a response does (the kernel runs the receiver's TCP path in the
sender's time). A stream holds what is written until the connection next reads, which on
HTTP/1.1 is right after the request's last byte: one ``send`` per request, as
``http.client`` does for small bodies. A failed send is treated as httpcore treats one: the
response is still read, since a server may answer before it closes.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections import deque
from collections.abc import Coroutine, Iterable
from typing import Any

import attrs
import httpcore
import httpx

# A server may send while a connection idles in the pool; past this much unread, the
# connection stops reading from the socket, as a stream read on demand would.
_HIGH_WATER = 1 << 20

# httpcore's names for connection details -> asyncio's.
_EXTRA_INFO = {
    "ssl_object": "ssl_object",
    "client_addr": "sockname",
    "server_addr": "peername",
    "socket": "socket",
}


def _socket_readable(sock: socket.socket | None) -> bool:
    """Data or EOF waiting in the socket (what httpcore's own streams report as
    ``is_readable``: an idle keep-alive connection the server has closed)."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class AsyncioStream(asyncio.Protocol, httpcore.AsyncNetworkStream):
    """One connection: received bytes queue here until read; written bytes wait for the
    next read (or the start of TLS) and go in one ``send``."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._closed = False  # EOF or connection lost
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._held: list[bytes] = []
        self._write_timeout: float | None = None
        self._drained: asyncio.Future[None] | None = None

    # ---- asyncio.Protocol ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and self._transport is not None:
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> None:
        self._closed = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._error = exc
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(exc or ConnectionResetError("connection lost"))

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # ---- httpcore.AsyncNetworkStream ----

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if buffer:
            self._held.append(buffer)
            self._write_timeout = timeout

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        if self._held:
            await self._flush()
        if not self._chunks and not self._closed:
            await self._wait_for_data(timeout)
        if self._chunks:
            return self._take(max_bytes)
        if self._error is not None:
            raise httpcore.ReadError(str(self._error) or type(self._error).__name__)
        return b""

    def _take(self, max_bytes: int) -> bytes:
        chunk = self._chunks.popleft()
        if len(chunk) > max_bytes:
            self._chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self._buffered -= len(chunk)
        if self._buffered <= _HIGH_WATER and self._transport is not None:
            self._transport.resume_reading()
        return chunk

    async def _wait_for_data(self, limit: float | None) -> None:
        # A timer on the waiter, not asyncio.timeout: this runs once per response.
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if limit is None else loop.call_later(limit, _expire, waiter)
        try:
            await waiter
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out") from None
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        if self._transport is None or self._closed:
            return  # what httpcore does with a failed request write: read on
        self._transport.write(data)
        if self._drained is not None:
            await self._wait_drained()

    async def _wait_drained(self) -> None:
        assert self._drained is not None
        try:
            async with asyncio.timeout(self._write_timeout):
                await asyncio.shield(self._drained)
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out") from None
        except OSError:
            pass  # lost while sending: read on, as httpcore does after a failed write

    async def aclose(self) -> None:
        self._held.clear()
        if self._transport is not None:
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        if self._held:
            await self._flush()
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                secured = await loop.start_tls(
                    self._transport, self, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        assert isinstance(secured, asyncio.Transport)
        self._transport = secured
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if transport is None:
            return None
        if info == "is_readable":
            return (
                bool(self._chunks)
                or self._closed
                or _socket_readable(transport.get_extra_info("socket"))
            )
        name = _EXTRA_INFO.get(info)
        return None if name is None else transport.get_extra_info(name)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections as :class:`AsyncioStream`; connect failures as httpcore's anyio backend
    reports them (``ConnectError``, ``ConnectTimeout``)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        connect = loop.create_connection(
            AsyncioStream, host, port, local_addr=local, happy_eyeballs_delay=0.25
        )
        return await _connected(connect, timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        connect = asyncio.get_running_loop().create_unix_connection(AsyncioStream, path)
        return await _connected(connect, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connected(
    connect: Coroutine[Any, Any, tuple[asyncio.BaseTransport, AsyncioStream]],
    limit: float | None,
    socket_options: Iterable[Any] | None,
) -> AsyncioStream:
    try:
        async with asyncio.timeout(limit):
            transport, stream = await connect
    except TimeoutError:
        raise httpcore.ConnectTimeout("timed out") from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return stream


# What httpx maps httpcore's exceptions from; anything else is a bug and propagates as is.
_HTTPCORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)


def _httpx_error(exc: Exception) -> Exception:
    """The exception httpx raises for httpcore's ``exc``: the httpx class of the same name
    (the nearest up ``exc``'s bases), so callers see the exceptions they always saw."""
    for kind in type(exc).__mro__:
        mapped = getattr(httpx, kind.__name__, None)
        if isinstance(mapped, type) and issubclass(mapped, httpx.TransportError):
            return mapped(str(exc))
    return exc


@attrs.frozen
class RawReply:
    """A whole response: status, header lines as received, body decoded as httpx decodes it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    content: bytes

    def header(self, name: bytes) -> str | None:
        """Every value of ``name`` (lower case), comma-joined as httpx joins them."""
        values = [value for key, value in self.headers if key.lower() == name]
        if not values:
            return None
        return ", ".join(_text(value) for value in values)


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("iso-8859-1")


def _content(status: int, headers: list[tuple[bytes, bytes]], raw: bytes) -> bytes:
    """``raw`` as httpx would hand it over: an encoded body (gzip, deflate, whatever httpx
    supports here) through httpx's own decoders, so a bad one raises what it always raised."""
    if not any(key.lower() == b"content-encoding" for key, _ in headers):
        return raw
    response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(raw))
    return response.read()


class ConnectionPool:
    """httpcore's connection pool for one origin: keep-alive, limits and per-read timeouts as
    httpx's transport sets them, without httpx's request and response objects (building and
    reading those was about a third of a request's CPU)."""

    def __init__(self, origin: httpx.URL, limits: httpx.Limits, timeout: httpx.Timeout) -> None:
        self._scheme = origin.raw_scheme
        self._host = origin.raw_host
        self._port = origin.port
        self._host_header = (b"Host", origin.netloc)
        self._extensions = {"timeout": timeout.as_dict()}
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )

    async def send(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> RawReply:
        """One exchange on a pooled connection, the whole body read; httpx's exceptions."""
        url = httpcore.URL(scheme=self._scheme, host=self._host, port=self._port, target=target)
        request = httpcore.Request(
            method, url, headers=[self._host_header, *headers], content=body,
            extensions=self._extensions,
        )  # fmt: skip
        try:
            response = await self._pool.handle_async_request(request)
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
        except _HTTPCORE_ERRORS as exc:
            raise _httpx_error(exc) from exc
        status, headers = response.status, response.headers
        return RawReply(status, headers, _content(status, headers, raw))

    async def aclose(self) -> None:
        await self._pool.aclose()
