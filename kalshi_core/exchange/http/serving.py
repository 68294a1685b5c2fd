"""How uvicorn runs the local exchange: the fastest parser and loop installed, one write per
response.

With the ``fast`` extra (``uvicorn[standard]``) HTTP is parsed by httptools (C) and the event
loop is uvloop; without it the server falls back to h11 and asyncio and behaves the same.

uvicorn writes a response's head and body to the socket separately (two ``send`` system calls
and, with ``TCP_NODELAY``, two packets). :class:`CoalescingTransport` gathers every write made
within one turn of the event loop and hands them to the socket as one.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.util
from collections.abc import Callable, Iterable
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

PARSERS = ("httptools", "h11")
# Python collects the young generation once 700 more objects were made than freed; a page of
# markets or an order's reports cross that within a request, each time a pause.
YOUNG_GENERATION_THRESHOLD = 50_000


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def http_parser(available: Callable[[str], bool] | None = None) -> str:
    """``"httptools"`` where installed, else ``"h11"`` (pure Python, always there)."""
    return "httptools" if (available or installed)("httptools") else "h11"


def loop_factory(
    available: Callable[[str], bool] | None = None,
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where installed, else None (asyncio's default loop)."""
    if not (available or installed)("uvloop"):
        return None
    uvloop = importlib.import_module("uvloop")
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


class CoalescingTransport:
    """A transport whose writes within one event-loop turn reach the socket as one write.

    Everything else is the wrapped transport's; closing sends what is pending first, aborting
    drops it.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _coalescing(protocol: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``protocol`` with its transport wrapped in a :class:`CoalescingTransport`."""

    class Coalescing(protocol):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(CoalescingTransport(transport))  # type: ignore[arg-type]

    Coalescing.__name__ = Coalescing.__qualname__ = f"Coalescing{protocol.__name__}"
    return Coalescing


def http_protocol(parser: str | None = None) -> type[asyncio.Protocol]:
    """uvicorn's protocol class for ``parser`` (default: :func:`http_parser`), one write per
    response."""
    chosen = parser or http_parser()
    if chosen not in PARSERS:
        raise ValueError(f"HTTP parser {chosen!r} must be one of {', '.join(PARSERS)}")
    if chosen == "httptools":  # imported only when chosen: it needs httptools installed
        module = importlib.import_module("uvicorn.protocols.http.httptools_impl")
        return _coalescing(module.HttpToolsProtocol)
    return _coalescing(H11Protocol)


def settle_heap(young_threshold: int = YOUNG_GENERATION_THRESHOLD) -> None:
    """For a process that only serves, once it has started: what is alive now (the venue, the
    modules) is moved where the collector never traverses it again (``gc.freeze``), and the
    young generation is collected less often. A full collection over a venue of thousands of
    markets is a pause of milliseconds in the middle of some request."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, oldest)
