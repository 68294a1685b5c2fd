"""What every group of route handlers shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.context import ServerContext
from kalshi_core.exchange.http.params import query_subaccount
from kalshi_core.exchange.http.shapes import order_json
from kalshi_core.models import Order

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

    def _subaccount(self, request: Request, number: int | None) -> str:
        """The signing user's subaccount ``number`` (0 when None); 400 if it does not exist."""
        return self.venue.subaccount_id(account(request), number or 0)

    def _queried(self, request: Request) -> str:
        """The account of the ``subaccount`` query parameter (Kalshi's default: 0)."""
        return self._subaccount(request, query_subaccount(request))

    def _scope(self, request: Request) -> list[str]:
        """The ``subaccount`` query parameter's account, or every subaccount when omitted
        (Kalshi's default for order, fill and settlement lists and cancel-all)."""
        number = query_subaccount(request)
        if number is not None:
            return [self._subaccount(request, number)]
        user = account(request)
        return [self.venue.subaccount_id(user, n) for n in self.venue.subaccounts(user)]

    def _mine(self, request: Request, order_id: str) -> Order:
        """An order of any of the signing user's subaccounts (the routes that name an order
        by id alone); 404 for an unknown id or another user's."""
        order = self.venue.get_order(order_id)
        if self.venue.owner(order.user_id)[0] != account(request):
            raise rules.reject(rules.NOT_FOUND, f"order {order_id} not found")
        return order

    def _order_json(self, order: Order) -> dict[str, Any]:
        return order_json(order, self.venue.owner(order.user_id))

    def handlers(self) -> list[tuple[str, str, Handler]]:
        return [(method, path, getattr(self, name)) for method, path, name in self.ROUTES]


def account(request: Request) -> str:
    """The account the request was signed for (set by the ASGI wrapper)."""
    found: str = request.state.account_id
    return found
