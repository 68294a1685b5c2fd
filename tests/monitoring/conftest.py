"""Real local servers for monitoring tests: an HTTP receiver for webhooks, the engine on the
in-process venue (as tests/engine_cycle builds it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kalshi_core.monitoring.server import bind, serve_app
from tests.engine_cycle.conftest import (  # noqa: F401  (fixtures re-exported)
    TRADER,
    clock,
    database,
    make_engine,
    venue,
)


@attrs.define
class Receiver:
    """Records every POST (path, JSON body, headers); answers 500 to the first ``failures``."""

    failures: int = 0
    received: list[tuple[str, Any, dict[str, str]]] = attrs.field(factory=list)
    attempts: int = 0
    url: str = ""

    def bodies(self, path: str) -> list[Any]:
        return [body for got, body, _ in self.received if got == path]

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            self.attempts += 1
            if self.failures > 0:
                self.failures -= 1
                return JSONResponse({"ok": False}, status_code=500)
            body = await request.json()
            self.received.append((request.url.path, body, dict(request.headers)))
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])


@contextlib.asynccontextmanager
async def serve(app: Any, port: int = 0) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1 (a free port unless given) for the block; yields its base URL."""
    async with serve_app(app, bind("127.0.0.1", port)) as url:
        yield url


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    async with serve(made.app()) as url:
        made.url = url
        yield made
