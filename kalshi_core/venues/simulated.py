"""The ``simulated`` venue: a :class:`~kalshi_core.engine.gateway.Gateway` over the in-process
:class:`Venue`, replaying recorded history on simulated time.

Backtests use it to run the very same engine without HTTP; tests use it to exercise execution
and reconciliation against the real matching engine. It answers exactly what the HTTP gateway
answers for the same account.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kalshi_core.client import BatchOrderResult, CancelAck, ItemError, OrderAck, OrderRequest
from kalshi_core.clock import ManualClock, SimulatedTime
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange.config import DEFAULTS
from kalshi_core.exchange.fill_models import FillModel
from kalshi_core.exchange.loaders.base import loaders_of
from kalshi_core.exchange.local import BUNDLED_HISTORY
from kalshi_core.exchange.replay import Replay, load_history, sets_in, window
from kalshi_core.exchange.venue import Latency, Venue, VenueOrder
from kalshi_core.models import (
    Balance,
    Fill,
    Market,
    MarketStatus,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    Series,
    Settlement,
)
from kalshi_core.money import DOLLAR
from kalshi_core.venues.base import LocalTime, OpenVenue, RunSpec


def venue_order(account: str, request: OrderRequest) -> VenueOrder:
    return VenueOrder(
        account=account,
        ticker=request.ticker,
        side=request.book_side,
        price=request.price,
        count=request.count,
        time_in_force=request.time_in_force,
        post_only=request.post_only,
        reduce_only=request.reduce_only,
        self_trade_prevention_type=request.self_trade_prevention_type,
        expiration_time=request.expiration_time,
        client_order_id=request.client_order_id,
    )


def ack_of(order: Order) -> OrderAck:
    return OrderAck(
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        fill_count=order.fill_count,
        remaining_count=order.remaining_count,
    )


class VenueGateway:
    """The engine's view of one account on an in-process venue."""

    def __init__(
        self, venue: Venue, account: str, catalog: Mapping[str, Series] | None = None
    ) -> None:
        self.venue = venue
        self.account = account
        self.catalog = dict(catalog or {})

    async def open_markets(self) -> list[Market]:
        return [m for m in self.venue.markets() if m.status is MarketStatus.ACTIVE]

    async def balance(self) -> Balance:
        return self.venue.balance(self.account)

    async def positions(self) -> list[Position]:
        return self.venue.positions(self.account)

    async def all_positions(self) -> list[Position]:
        return self.venue.positions(self.account)

    async def resting_orders(self) -> list[Order]:
        return self.venue.orders(self.account, status=OrderStatus.RESTING)

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        fills = self.venue.fills(self.account)
        if since is None:
            return fills
        return [f for f in fills if f.created_time is None or f.created_time >= since]

    async def settlements(self) -> list[Settlement]:
        return self.venue.settlements(self.account)

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None:
        return self.venue.find_order(self.account, client_order_id)

    async def orderbook(self, ticker: str) -> OrderBook:
        return self.venue.orderbook(ticker)

    async def series(self, series_ticker: str) -> Series | None:
        """As the local exchange answers ``GET /series/{ticker}``."""
        known = self.catalog.get(series_ticker)
        if known is not None or not any(
            m.series_ticker == series_ticker for m in self.venue.markets()
        ):
            return known
        return Series(ticker=series_ticker, title=series_ticker, category="", frequency="custom")

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        return [self._place_item(request) for request in requests]

    def _place_item(self, request: OrderRequest) -> BatchOrderResult:
        try:
            order = self.venue.place_order(venue_order(self.account, request))
        except ExchangeError as error:
            item = ItemError(code=error.code or "", message=str(error))
            return BatchOrderResult(client_order_id=request.client_order_id, error=item)
        return BatchOrderResult(
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            fill_count=order.fill_count,
            remaining_count=order.remaining_count,
        )

    async def place_one(self, request: OrderRequest) -> OrderAck:
        return ack_of(self.venue.place_order(venue_order(self.account, request)))

    async def cancel(self, order_id: str) -> CancelAck:
        order = self.venue.cancel(self.account, order_id)
        return CancelAck(order_id=order.order_id, client_order_id=order.client_order_id)


SIMULATED_ACCOUNT = "simulated"
DEFAULT_FILL = "trade_through"


@contextlib.asynccontextmanager
async def open_simulated(
    section: Mapping[str, Any], *, app: Any, run: RunSpec
) -> AsyncIterator[OpenVenue]:
    """The matching venue in-process, replaying recorded history on simulated time: no HTTP,
    the same fills, fees and settlement as the local exchange."""
    exchange = app.section("exchange")
    loaders = loaders_of(app.registry("history_loaders"))
    recorded = load_history(
        history_dir(exchange, run), list(history_sets(exchange, run)), loaders=loaders
    )
    history = window(recorded, run.start, run.end)
    clock = ManualClock(history.start_time)
    venue = Venue(clock, id_namespace=f"kalshi-core-run/{run.run_id}", latency=latency_of(exchange))
    replay = Replay(venue, history, seed=run.seed, fill_model=fill_model_of(app, exchange))
    dollars = int(exchange.get("starting_balance_dollars", DEFAULTS["starting_balance_dollars"]))
    venue.deposit(SIMULATED_ACCOUNT, dollars * DOLLAR)
    yield OpenVenue(
        gateway=VenueGateway(venue, SIMULATED_ACCOUNT, history.series),
        clock=clock,
        description=f"the simulated venue replaying {', '.join(history.sets)} "
        f"(fill model {replay.provider.name})",
        time=LocalTime(SimulatedTime(clock, replay)),
        caveats=history.caveats,
        fill_model=replay.provider.describe(),
    )


def fill_model_of(app: Any, exchange: Mapping[str, Any]) -> Callable[..., FillModel]:
    """The factory of the fill model ``exchange.fill_model`` names (see docs/exchange.md)."""
    return functools.partial(app.build, "fill_models", exchange.get("fill_model", DEFAULT_FILL))


def latency_of(exchange: Mapping[str, Any]) -> Latency:
    """``exchange.latency``'s base, insert and cancel milliseconds, in recorded time."""
    section = exchange.get("latency") or {}
    return Latency(
        base=timedelta(milliseconds=int(section.get("base_ms", 0))),
        insert=timedelta(milliseconds=int(section.get("insert_ms", 0))),
        cancel=timedelta(milliseconds=int(section.get("cancel_ms", 0))),
    )


def history_dir(exchange: Mapping[str, Any], run: RunSpec) -> Path:
    """The run's history folder: ``--data``, else ``exchange.data_dir``, else the bundled."""
    chosen = run.data_dir or exchange.get("data_dir") or ""
    return Path(chosen) if chosen else BUNDLED_HISTORY


def history_sets(exchange: Mapping[str, Any], run: RunSpec) -> tuple[str, ...]:
    """The run's data sets: ``--data-set``, else ``exchange.data_sets``, else every set found
    in a folder given with ``--data``."""
    if run.data_sets:
        return run.data_sets
    if run.data_dir:
        return tuple(sets_in(Path(run.data_dir)))
    return tuple(exchange.get("data_sets") or ())
