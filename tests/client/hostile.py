"""Hostile HTTP servers on loopback: what no honest Kalshi (or the local exchange) sends.

A :class:`HostileServer` is a real asyncio TCP server speaking just enough HTTP/1.1: it reads
each request (head and ``Content-Length`` body) and answers with whatever its ``answer``
function returns, so a test can serve a malformed body, nest JSON a million levels deep,
hand out endless fresh cursors, send a short batch reply or drip a body one byte at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

PREFIX = "/trade-api/v2"


@attrs.frozen
class Request:
    method: str
    path: str  # relative to /trade-api/v2
    query: dict[str, str]
    body: Any


@attrs.frozen
class Answer:
    """``drip``: seconds between single bytes of the body (0: all at once)."""

    status: int = 200
    body: bytes = b"{}"
    headers: tuple[tuple[str, str], ...] = ()
    drip: float = 0.0


def json_answer(data: Any, status: int = 200, **options: Any) -> Answer:
    return Answer(status=status, body=json.dumps(data).encode(), **options)


Answerer = Callable[[Request], Answer]


async def _read_request(reader: asyncio.StreamReader) -> Request:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    method, target, _ = head[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
    length = int(headers.get("content-length") or 0)
    raw = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    return Request(
        method=method,
        path=url.path.removeprefix(PREFIX),
        query=dict(parse_qsl(url.query)),
        body=json.loads(raw) if raw else None,
    )


async def _write_answer(writer: asyncio.StreamWriter, answer: Answer) -> None:
    head = [f"HTTP/1.1 {answer.status} X", f"Content-Length: {len(answer.body)}"]
    head += ["Content-Type: application/json", "Connection: close"]
    head += [f"{name}: {value}" for name, value in answer.headers]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if not answer.drip:
        writer.write(answer.body)
        await writer.drain()
        return
    for index in range(len(answer.body)):
        writer.write(answer.body[index : index + 1])
        await writer.drain()
        await asyncio.sleep(answer.drip)  # the hostile behaviour itself, not a test wait


class HostileServer:
    """Serves ``answer(request)`` for every request; ``requests`` lists what arrived."""

    def __init__(self, answer: Answerer) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self.base_url = ""
        self._handlers: set[asyncio.Task[Any]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            request = await _read_request(reader)
            self.requests.append(request)
            await _write_answer(writer, self.answer(request))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up on us: exactly what some tests want
        finally:
            writer.close()
            self._handlers.discard(task)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HostileServer]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}{PREFIX}"
        async with server:
            try:
                yield self
            finally:
                for handler in list(self._handlers):  # a drip still going: stop it
                    handler.cancel()
                server.close()
