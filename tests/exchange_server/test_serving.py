"""How uvicorn serves the exchange: httptools + uvloop where installed, h11 + asyncio without;
one socket write per response."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol

from kalshi_core.exchange import Venue
from kalshi_core.exchange.http import serving
from kalshi_core.exchange.http.serving import (
    CoalescingTransport,
    http_parser,
    http_protocol,
    loop_factory,
)
from kalshi_core.exchange.local import LocalExchange

STATUS = "/exchange/status"


def test_httptools_is_chosen_where_installed_else_h11() -> None:
    assert http_parser(lambda module: True) == "httptools"
    assert http_parser(lambda module: module != "httptools") == "h11"


def test_uvloop_is_chosen_where_installed_else_asyncio() -> None:
    assert loop_factory(lambda module: False) is None
    if serving.installed("uvloop"):
        factory = loop_factory()
        assert factory is not None
        loop = factory()
        try:
            assert type(loop).__module__.startswith("uvloop")
        finally:
            loop.close()


def test_an_unknown_parser_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'picohttp' must be one of httptools, h11"):
        http_protocol("picohttp")


async def _status_twice(exchange: LocalExchange) -> list[int]:
    async with httpx.AsyncClient() as http:
        return [(await http.get(exchange.base_url + STATUS)).status_code for _ in range(2)]


async def test_without_httptools_the_server_runs_on_h11(
    venue: Venue, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "installed", lambda module: False)
    async with LocalExchange.running(venue=venue, key_dir=key_dir) as exchange:
        assert await _status_twice(exchange) == [200, 200]
        protocol = exchange._server.config.http_protocol_class
    assert issubclass(protocol, H11Protocol)
    assert protocol.__name__ == "CoalescingH11Protocol"


@pytest.mark.skipif(not serving.installed("httptools"), reason="the fast extra is not installed")
async def test_with_httptools_installed_the_server_uses_it(venue: Venue, key_dir: Path) -> None:
    async with LocalExchange.running(venue=venue, key_dir=key_dir) as exchange:
        assert await _status_twice(exchange) == [200, 200]
        protocol = exchange._server.config.http_protocol_class
    assert protocol.__name__ == "CoalescingHttpToolsProtocol"


class _CountedTransport:
    """A real transport whose writes are counted (everything else is the transport's)."""

    def __init__(self, transport: asyncio.Transport, writes: list[bytes]) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(data)
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


@pytest.mark.parametrize("parser", ["h11", "httptools"])
async def test_each_response_reaches_the_socket_in_one_write(
    parser: str, venue: Venue, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not serving.installed(parser):
        pytest.skip(f"{parser} is not installed")
    monkeypatch.setattr(serving, "installed", lambda module: module == parser)
    writes: list[bytes] = []
    wrap = CoalescingTransport.__init__

    def counted(self: CoalescingTransport, transport: asyncio.Transport) -> None:
        wrap(self, _CountedTransport(transport, writes))  # type: ignore[arg-type]

    monkeypatch.setattr(CoalescingTransport, "__init__", counted)
    running = LocalExchange.running(venue=venue, key_dir=key_dir)
    async with running as exchange, httpx.AsyncClient() as http:
        bodies = [(await http.get(exchange.base_url + STATUS)).json() for _ in range(5)]
    assert all(body["exchange_active"] for body in bodies)
    assert len(writes) == 5
    assert all(write.startswith(b"HTTP/1.1 200") and write.endswith(b"}") for write in writes)


async def test_closing_sends_what_is_pending_first() -> None:
    received: list[bytes] = []
    done = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())
        writer.close()
        done.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    coalescing = CoalescingTransport(transport)  # type: ignore[arg-type]
    coalescing.write(b"head ")
    coalescing.writelines([b"body", b"!"])
    coalescing.close()  # before the loop's turn ends: the pending bytes still go out first
    await done.wait()
    server.close()
    await server.wait_closed()
    assert received == [b"head body!"]
