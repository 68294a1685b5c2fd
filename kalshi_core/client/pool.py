"""The connection pool under the transport: httpx's, on streams that send a request whole.

httpcore writes a request's head and its body in two writes, so every request with a body
(every order write) cost two ``send`` system calls, and on loopback a ``send`` is a good part
of a request's CPU (the kernel runs the receiver's TCP path in the sender's time slice). A
:class:`CorkedStream` holds what is written until the connection next reads, which on
HTTP/1.1 is right after the last byte of the request: one ``send`` per request, as
``http.client`` does for small bodies. Nothing else changes: the same pool, limits, TLS and
timeouts, and a failed send is treated as httpcore treats one (the response is still read,
since a server may answer before it closes).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterable
from typing import Any

import attrs
import httpcore
import httpx


class CorkedStream(httpcore.AsyncNetworkStream):
    """A network stream whose writes wait for the next read (or TLS start) to be sent."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._held: list[bytes] = []
        self._write_timeout: float | None = None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if buffer:
            self._held.append(buffer)
            self._write_timeout = timeout

    async def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        # What httpcore does with a failed request write: read on, since a server may answer
        # (say, 413) and close before taking the whole request.
        with contextlib.suppress(httpcore.WriteError):
            await self._stream.write(data, self._write_timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        if self._held:
            await self._flush()
        return await self._stream.read(max_bytes, timeout)

    async def aclose(self) -> None:
        self._held.clear()
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        if self._held:
            await self._flush()
        secured = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return CorkedStream(secured)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class CorkedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend (anyio), each connection's stream wrapped in :class:`CorkedStream`."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return CorkedStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return CorkedStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


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
            network_backend=CorkedBackend(),
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
