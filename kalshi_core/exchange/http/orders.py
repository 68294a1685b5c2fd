"""V2 order entry under ``/portfolio/events/orders``: create, batch create, cancel, batch
cancel, cancel all, amend and decrease."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.http.base import Handlers, RouteSpec
from kalshi_core.exchange.http.errors import bad, error_item
from kalshi_core.exchange.http.params import (
    choice_field,
    client_order_id_field,
    expiration_field,
    flag_field,
    json_object,
    parse_count_field,
    parse_price,
    query_subaccount,
    subaccount_field,
    text_field,
)
from kalshi_core.exchange.http.shapes import epoch_ms, json_body, order_ack
from kalshi_core.exchange.venue import VenueOrder
from kalshi_core.models import BookSide, Order, OrderStatus, SelfTradePrevention, TimeInForce
from kalshi_core.money import Count, format_count

MAX_BATCH = 20


def parse_create(data: Any, account_of: Callable[[int | None], str]) -> VenueOrder:
    """A ``CreateOrderV2Request`` body -> the venue's :class:`VenueOrder`; ``account_of``
    turns its ``subaccount`` (None: 0) into the account that places it."""
    if not isinstance(data, dict):
        raise bad("each order must be a JSON object")
    return VenueOrder(
        account=account_of(subaccount_field(data)),
        ticker=str(text_field(data, "ticker")),
        side=choice_field(data, "side", BookSide),
        price=parse_price(data.get("price")),
        count=parse_count_field(data.get("count")),
        time_in_force=choice_field(data, "time_in_force", TimeInForce),
        self_trade_prevention_type=choice_field(
            data, "self_trade_prevention_type", SelfTradePrevention
        ),
        post_only=flag_field(data, "post_only"),
        reduce_only=flag_field(data, "reduce_only"),
        expiration_time=expiration_field(data.get("expiration_time")),
        client_order_id=client_order_id_field(data),
        order_group_id=text_field(data, "order_group_id", required=False),
    )


def batch_items(body: dict[str, Any], key: str) -> list[Any]:
    items = body.get(key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise bad(f"{key} must be a list of 1 to {MAX_BATCH} items")
    return items


def _order_id(item: Any) -> Any:
    return item.get("order_id") if isinstance(item, dict) else None


def cancel_ids(body: dict[str, Any]) -> list[tuple[str, int | None]]:
    """A batch cancel's (order id, subaccount): ``ids`` (strings, subaccount 0) or ``orders``
    (``{"order_id", "subaccount"?}`` objects)."""
    if "ids" in body:
        ids = batch_items(body, "ids")
        if not all(isinstance(i, str) and i for i in ids):
            raise bad("ids must be a list of order id strings")
        return [(i, None) for i in ids]
    items = batch_items(body, "orders")
    found = [_order_id(item) for item in items]
    if not all(isinstance(i, str) and i for i in found):
        raise bad('each item of orders must be an object with an "order_id" string')
    return [(i, subaccount_field(item)) for i, item in zip(found, items, strict=True)]


def both_subaccounts(request: Request, body: dict[str, Any]) -> int | None:
    """``subaccount`` from the query (as the SDK sends it) or the body; 400 if they differ."""
    queried, given = query_subaccount(request), subaccount_field(body)
    if queried is not None and given is not None and queried != given:
        raise bad(f"query parameter subaccount={queried} and field subaccount={given} differ")
    return given if queried is None else queried


class OrderHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("POST", "/portfolio/events/orders", "create_order"),
        ("DELETE", "/portfolio/events/orders", "cancel_all"),
        ("POST", "/portfolio/events/orders/batched", "batch_create"),
        ("DELETE", "/portfolio/events/orders/batched", "batch_cancel"),
        ("DELETE", "/portfolio/events/orders/{order_id}", "cancel_order"),
        ("POST", "/portfolio/events/orders/{order_id}/amend", "amend_order"),
        ("POST", "/portfolio/events/orders/{order_id}/decrease", "decrease_order"),
    )

    async def create_order(self, request: Request) -> Response:
        body = await json_object(request)
        order = self.venue.place_order(parse_create(body, self._account_of(request)))
        return json_body(order_ack(order, self._now()), 201)

    def _account_of(self, request: Request) -> Callable[[int | None], str]:
        return lambda number: self._subaccount(request, number)

    def _cancel(self, account_id: str, order_id: str) -> tuple[Count, Order]:
        before = self.venue.get_order(order_id, account_id)
        if before.status is not OrderStatus.RESTING:
            # 404 as Kalshi answers: the client then checks the order instead of trusting it.
            raise rules.reject(rules.NOT_FOUND, f"order {order_id} is {before.status}")
        return before.remaining_count, self.venue.cancel(account_id, order_id)

    def _cancel_ack(self, reduced: Count, order: Order) -> dict[str, Any]:
        return {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "reduced_by": format_count(reduced),
            "ts_ms": epoch_ms(self._now()),
        }

    async def cancel_order(self, request: Request) -> Response:
        reduced, order = self._cancel(self._queried(request), request.path_params["order_id"])
        return json_body(self._cancel_ack(reduced, order))

    async def amend_order(self, request: Request) -> Response:
        body = await json_object(request)
        order_id = request.path_params["order_id"]
        account_id = self._subaccount(request, both_subaccounts(request, body))
        current = self.venue.get_order(order_id, account_id)
        if body.get("ticker") != current.ticker or body.get("side") != current.book_side.value:
            raise bad(f"amend of {order_id}: ticker and side must be the order's own")
        order = self.venue.amend(
            account_id,
            order_id,
            price=parse_price(body.get("price")),
            count=parse_count_field(body.get("count")),
            updated_client_order_id=client_order_id_field(body, "updated_client_order_id"),
        )
        return json_body(order_ack(order, self._now()))

    async def decrease_order(self, request: Request) -> Response:
        body = await json_object(request)
        by, to = body.get("reduce_by"), body.get("reduce_to")
        order = self.venue.decrease(
            self._subaccount(request, both_subaccounts(request, body)),
            request.path_params["order_id"],
            reduce_by=None if by is None else parse_count_field(by, "reduce_by"),
            reduce_to=None if to is None else parse_count_field(to, "reduce_to"),
        )
        ack = {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "remaining_count": format_count(order.remaining_count),
            "ts_ms": epoch_ms(self._now()),
        }
        return json_body(ack)

    async def batch_create(self, request: Request) -> Response:
        items = batch_items(await json_object(request), "orders")
        account_of = self._account_of(request)
        return json_body({"orders": [self._create_item(item, account_of) for item in items]}, 201)

    def _create_item(self, item: Any, account_of: Callable[[int | None], str]) -> dict[str, Any]:
        try:
            order = self.venue.place_order(parse_create(item, account_of))
        except ExchangeError as exc:
            result: dict[str, Any] = {"error": error_item(exc)}
            if isinstance(item, dict) and isinstance(item.get("client_order_id"), str):
                result["client_order_id"] = item["client_order_id"]
            return result
        return order_ack(order, self._now())

    async def batch_cancel(self, request: Request) -> Response:
        ids = cancel_ids(await json_object(request))
        return json_body({"orders": [self._cancel_item(request, *item) for item in ids]})

    def _cancel_item(
        self, request: Request, order_id: str, subaccount: int | None
    ) -> dict[str, Any]:
        try:
            reduced, order = self._cancel(self._subaccount(request, subaccount), order_id)
        except ExchangeError as exc:
            return {"order_id": order_id, "reduced_by": "0.00", "error": error_item(exc)}
        return self._cancel_ack(reduced, order)

    async def cancel_all(self, request: Request) -> Response:
        for account_id in self._scope(request):
            self.venue.cancel_all(account_id)
        return Response(status_code=204)
