"""The ASGI application: latency, injected faults, authentication, then the routes.

Before a request is served the wrapper adds latency, acts out any injected fault
(:mod:`kalshi_core.exchange.faults`), checks the signature (:mod:`.auth`) and lets the owner
advance its replay (``context.sync``). WebSocket connections go to the feed.

A body larger than ``context.max_body_bytes`` is refused with 413 as soon as its
``Content-Length`` (or, streamed, the bytes read so far) says so; it is never read whole.
Whatever fails before a response has started is answered in Kalshi's error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kalshi_core.exchange.faults import Fault, FaultKind
from kalshi_core.exchange.http.auth import Unauthorized, header_map
from kalshi_core.exchange.http.base import Handler, Handlers
from kalshi_core.exchange.http.context import ServerContext
from kalshi_core.exchange.http.dispatch import Endpoint, RouteTable, respond
from kalshi_core.exchange.http.errors import (
    EXCEPTION_HANDLERS,
    PAYLOAD_TOO_LARGE,
    error_response,
    log,
    too_large,
)
from kalshi_core.exchange.http.historical import HistoricalHandlers
from kalshi_core.exchange.http.local_clock import LocalClockHandlers
from kalshi_core.exchange.http.markets import EventHandlers, ExchangeHandlers, MarketHandlers
from kalshi_core.exchange.http.order_groups import OrderGroupHandlers
from kalshi_core.exchange.http.orders import OrderHandlers
from kalshi_core.exchange.http.portfolio import AccountHandlers, PortfolioHandlers
from kalshi_core.exchange.http.subaccounts import SubaccountHandlers
from kalshi_core.exchange.websocket import StreamFeed

PREFIX = "/trade-api/v2"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SECTIONS: tuple[type[Handlers], ...] = (
    ExchangeHandlers,
    MarketHandlers,
    EventHandlers,
    PortfolioHandlers,
    OrderHandlers,
    OrderGroupHandlers,
    SubaccountHandlers,
    AccountHandlers,
    LocalClockHandlers,
    HistoricalHandlers,
)
# Route prefixes that need a signed request.
PRIVATE = (
    "/portfolio",
    "/account",
    "/local/clock/advance",
    "/historical/fills",
    "/historical/orders",
)


class DroppedConnection(Exception):
    """Raised after a response has started: uvicorn then closes the socket mid-response."""


class _QuietDrops(logging.Filter):
    """Keeps uvicorn from logging the connections this server drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


async def _discard(message: Message) -> None:
    return None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() and len(value) <= 18 else None
    return None


def _bounded(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises a 413 error once more than ``limit`` body bytes arrived."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return bounded


class _Tracked:
    """A ``send`` that remembers whether the response has started."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


def endpoints(context: ServerContext) -> list[tuple[str, str, Endpoint]]:
    """Every route as (method, full path, endpoint); ``context.sync`` runs before each handler."""

    def endpoint(handler: Handler) -> Endpoint:
        async def synced(request: Request) -> Response:
            context.sync()
            return await handler(request)

        return synced

    return [
        (method, PREFIX + path, endpoint(handler))
        for section in SECTIONS
        for method, path, handler in section(context).handlers()
    ]


def build_routes(context: ServerContext) -> Starlette:
    """The Starlette app with every route; ``context.sync`` runs before each handler."""
    return _starlette(endpoints(context))


def _starlette(found: list[tuple[str, str, Endpoint]]) -> Starlette:
    routes = [Route(path, endpoint, methods=[method]) for method, path, endpoint in found]
    return Starlette(routes=routes, exception_handlers=dict(EXCEPTION_HANDLERS))


class ExchangeApp:
    """The ASGI application. ``app`` is the inner Starlette app with the routes."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        found = endpoints(context)
        self.app = _starlette(found)
        self.routes = RouteTable(found)  # the same endpoints, found without Starlette's router
        self.feed = StreamFeed(context)  # the WebSocket feed at /trade-api/ws/v2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.feed(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        tracked = _Tracked(send)
        try:
            await self._serve(scope, receive, tracked)
        except DroppedConnection:
            raise
        except Exception as exc:
            if tracked.started:
                raise
            log.exception("local exchange failed on %s %s", scope["method"], scope["path"])
            message = f"{type(exc).__name__} in the local exchange"
            await error_response(500, "internal_error", message)(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.context.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            message = f"the request body is larger than {limit} bytes"
            await error_response(413, PAYLOAD_TOO_LARGE, message)(scope, receive, send)
            return
        receive = _bounded(receive, limit)
        path = scope["path"].removeprefix(PREFIX)
        if self.context.faults.latency_seconds:
            await asyncio.sleep(self.context.faults.latency_seconds)
        fault = self.context.faults.take(scope["method"], path)
        if fault is not None and not fault.kind.applies:
            await self._act_out(fault, scope, receive, send)
            return
        problem = self._authenticate(scope, path)
        if problem is not None:
            await error_response(401, "unauthorized", problem)(scope, receive, send)
            return
        if fault is None:
            await self._route(scope, receive, send)
            return
        await self._route(scope, receive, _discard)
        await self._act_out(fault, scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request that names a route exactly goes straight to it; any other to Starlette."""
        found = None if scope.get("root_path") else self.routes.find(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        await respond(*found, scope, receive, send)

    async def _act_out(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind is FaultKind.STATUS:
            response = error_response(fault.status, fault.error_code, "injected fault")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
            await response(scope, receive, send)
        elif fault.kind in (FaultKind.TIMEOUT, FaultKind.APPLY_THEN_TIMEOUT):
            await self._hold()
            await error_response(504, "gateway_timeout", "injected timeout")(scope, receive, send)
        else:
            headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            raise DroppedConnection("the local exchange drops this connection on purpose")

    async def _hold(self) -> None:
        released = self.context.faults.released
        limit = self.context.faults.settings.timeout_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), timeout=limit)

    def _authenticate(self, scope: Scope, path: str) -> str | None:
        """Why the request is refused, or None; stores the account in ``scope["state"]``."""
        raw_path = scope.get("raw_path") or scope["path"].encode()
        full_path = raw_path.decode("latin-1").split("?", 1)[0]
        try:
            account_id = self.context.signed_account(
                header_map(scope["headers"]), scope["method"], full_path
            )
        except Unauthorized as exc:
            return str(exc)
        if account_id is None:
            if path.startswith(PRIVATE):
                return "this endpoint needs a signed request (KALSHI-ACCESS-* headers)"
            return None
        scope.setdefault("state", {})["account_id"] = account_id
        return None
