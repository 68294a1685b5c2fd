"""What every group of route handlers shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange.http.context import ServerContext
from kalshi_core.models import Market

Handler = Callable[[Request], Awaitable[Response]]
RouteSpec = tuple[str, str, str]  # method, path under the prefix, handler method name


class Handlers:
    """One async method per route of a section; ``ROUTES`` names them."""

    ROUTES: ClassVar[tuple[RouteSpec, ...]] = ()

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.venue = context.venue

    def _now(self) -> datetime:
        return self.venue.clock.now()

    def _markets(self) -> dict[str, Market]:
        return {m.ticker: m for m in self.venue.markets()}

    def handlers(self) -> list[tuple[str, str, Handler]]:
        return [(method, path, getattr(self, name)) for method, path, name in self.ROUTES]


def account(request: Request) -> str:
    """The account the request was signed for (set by the ASGI wrapper)."""
    found: str = request.state.account_id
    return found
