"""The monitoring endpoint: ``/metrics``, ``/healthz`` and ``/readyz`` on Starlette + uvicorn.

``kalshi-core run`` serves it inside its own event loop for the length of the session::

    async with serve_monitoring(app.section("monitoring"), state) as url:
        ...  # url is None when monitoring.enabled is false or the port is taken

Nothing here reads a secret or an account: metrics carry counts and amounts, health carries
times and the names of failed dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

import attrs
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kalshi_core.monitoring.health import Health
from kalshi_core.monitoring.metrics import KalshiMetrics

log = logging.getLogger(__name__)


@attrs.define(eq=False)
class MonitoringState:
    """What the endpoint reports: the session's metrics and health."""

    metrics: KalshiMetrics
    health: Health


def monitoring_app(state: MonitoringState) -> Starlette:
    async def metrics(request: Request) -> Response:
        body = generate_latest(state.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return JSONResponse(state.health.liveness())

    async def readyz(request: Request) -> Response:
        readiness = await state.health.readiness()
        body: dict[str, object] = {"status": "ready" if readiness.ready else "not ready"}
        body |= {"failed": dict(readiness.failures)} if readiness.failures else {}
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    routes = [
        Route("/metrics", metrics),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """uvicorn inside our loop; the session keeps its own signal handlers."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


def bind(host: str, port: int) -> socket.socket:
    address = "127.0.0.1" if host == "localhost" else host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    address, port = sock.getsockname()[:2]
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def serve_app(app: Any, sock: socket.socket) -> AsyncIterator[str]:
    """Serve the ASGI ``app`` on the bound ``sock`` for the block; yields its base URL."""
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, http="h11")
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await _started(server, serving)
        yield _url(sock)
    finally:
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        sock.close()


@contextlib.asynccontextmanager
async def serve_monitoring(
    section: Mapping[str, Any], state: MonitoringState
) -> AsyncIterator[str | None]:
    """Serve the endpoint on ``monitoring.host:monitoring.port`` for the block.

    Yields its base URL, or ``None`` when disabled or when the port cannot be bound: a
    monitoring endpoint that cannot start is logged and never stops trading.
    """
    if not section.get("enabled", True):
        yield None
        return
    host, port = str(section.get("host", "127.0.0.1")), int(section.get("port", 0))
    try:
        sock = bind(host, port)
    except OSError as error:
        log.warning("monitoring endpoint not started on %s:%s: %s", host, port, error)
        yield None
        return
    async with serve_app(monitoring_app(state), sock) as url:
        log.info("monitoring endpoint at %s/metrics", url)
        yield url


async def _started(server: _Server, serving: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if not server.ready.is_set():
        await serving  # raises what stopped it
        raise RuntimeError("the monitoring endpoint stopped while starting")
