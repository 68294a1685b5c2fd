"""Real clients page every list endpoint while the account's orders change under them.

The official SDK (``kalshi_python_sync`` 3.34) walks markets, events, series, orders (all, and
resting only), fills, positions, settlements and trades a page or two at a time; pykalshi 2.0
does the same with ``fetch_all``. Meanwhile the book changes in two ways at once:

- before every request the exchange serves, a churn step places a dev order, cancels an older
  one, lets a market maker fill a dev bid (a new fill, trade and position change) or prints a
  trade between two other accounts: the list changes between every pair of pages;
- a concurrent task places and cancels dev orders over HTTP as fast as the loop lets it.

Every item present for the whole walk must be seen exactly once, nothing may be seen twice,
nothing seen may be made up, and no request may fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

sdk = pytest.importorskip("kalshi_python_sync")

from kalshi_core.client import Signer  # noqa: E402
from kalshi_core.clock import ManualClock  # noqa: E402
from kalshi_core.exchange import Venue, VenueOrder  # noqa: E402
from kalshi_core.exchange.local import LocalExchange  # noqa: E402
from kalshi_core.models import (  # noqa: E402
    BookSide,
    Market,
    MarketResult,
    MarketStatus,
    OrderStatus,
    TimeInForce,
)
from kalshi_core.money import CONTRACT, DOLLAR  # noqa: E402

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVENTS = ("KXPAGE-26MAR01", "KXPAGE-26MAR02", "KXMORE-26MAR01")
TICKERS = [f"{event}-T{strike}" for event in EVENTS for strike in (40, 50, 60, 70)]
SETTLED = TICKERS[-2:]
OPEN = TICKERS[:-2]
DEV, MM, TAKER = "dev", "mm", "taker"
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
MAX_PAGES = 500
Keys = dict[str, list[Any]]


def _market(ticker: str) -> Market:
    return Market(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status=MarketStatus.ACTIVE,
        title=f"Paging {ticker}",
        open_time=START - timedelta(days=1),
        close_time=START + timedelta(days=1),
    )


def _order(account: str, ticker: str, side: BookSide, price: int, **extra: Any) -> VenueOrder:
    return VenueOrder(
        account=account, ticker=ticker, side=side, price=price, count=CONTRACT, **extra
    )


def _print(venue: Venue, ticker: str, price: int) -> None:
    venue.place_order(_order(MM, ticker, BookSide.ASK, price))
    venue.place_order(_order(TAKER, ticker, BookSide.BID, price, time_in_force=IOC))


def seed_activity(venue: Venue) -> None:
    """A fill and a position for the dev account in every market, two more prints each, three
    resting dev bids in each open market, and two markets settled with dev positions."""
    venue.deposit(MM, 10_000 * DOLLAR)
    venue.deposit(TAKER, 10_000 * DOLLAR)
    for ticker in TICKERS:
        venue.place_order(_order(MM, ticker, BookSide.ASK, 6000))
        venue.place_order(_order(DEV, ticker, BookSide.BID, 6000, time_in_force=IOC))
        _print(venue, ticker, 5500)
        _print(venue, ticker, 5600)
    for ticker in OPEN:
        for price in (1000, 1100, 1200):
            venue.place_order(_order(DEV, ticker, BookSide.BID, price))
    for ticker in SETTLED:
        venue.determine(ticker, MarketResult.YES)


class Churn:
    """One change to the book per call, chosen by a seeded generator."""

    def __init__(self, venue: Venue, seed: int = 3) -> None:
        self.venue = venue
        self.rng = random.Random(seed)
        self.steps = 0

    def __call__(self) -> None:
        self.steps += 1
        ticker = self.rng.choice(OPEN)
        # The concurrent task's orders (at 1-4 cents) are its own to cancel.
        resting = [
            o for o in self.venue.orders(DEV, status=OrderStatus.RESTING) if o.yes_price >= 500
        ]
        step = self.steps % 4
        if step == 0 and resting:
            self.venue.cancel(DEV, self.rng.choice(resting).order_id)
        elif step == 1 and resting:
            bid = self.rng.choice(resting)  # a market maker sells into it: fill, trade, position
            self.venue.place_order(
                _order(MM, bid.ticker, BookSide.ASK, bid.yes_price, time_in_force=IOC)
            )
        elif step == 2:
            _print(self.venue, ticker, 5000 + 100 * self.rng.randint(0, 9))
        else:
            price = 500 + 100 * self.rng.randint(0, 9)
            self.venue.place_order(_order(DEV, ticker, BookSide.BID, price))


def snapshot(venue: Venue) -> dict[str, set[Any]]:
    """What each list holds now, by the key the walk records."""
    settled = {t for t in TICKERS if venue.market(t).status is not MarketStatus.ACTIVE}
    return {
        "markets": {m.ticker for m in venue.markets()},
        "events": {m.event_ticker for m in venue.markets()},
        "series": {m.series_ticker for m in venue.markets()},
        "orders": {o.order_id for o in venue.orders(DEV)},
        "resting": {o.order_id for o in venue.orders(DEV, status=OrderStatus.RESTING)},
        "fills": {f.fill_id for f in venue.fills(DEV)},
        "positions": {p.ticker for p in venue.positions(DEV) if p.ticker not in settled},
        "settlements": {s.ticker for s in venue.settlements(DEV)},
        "trades": {t.trade_id for t in venue.trades()},
    }


def walk(fetch: Callable[[str | None], tuple[list[Any], str]]) -> list[Any]:
    """Every key of a list, following its cursor until ``""``."""
    found: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        items, cursor = fetch(cursor)
        found += items
        if not cursor:
            return found
    raise AssertionError(f"no last page after {MAX_PAGES} pages")


def sdk_walks(client: Any) -> Keys:
    """The official SDK's walks, a page of one to three items at a time."""

    def paged(method: Callable[..., Any], key: str, field: str, **query: Any) -> list[Any]:
        def fetch(cursor: str | None) -> tuple[list[Any], str]:
            page = method(cursor=cursor, **query)
            return [getattr(item, field) for item in getattr(page, key)], page.cursor or ""

        return walk(fetch)

    return {
        "markets": paged(client.get_markets, "markets", "ticker", limit=2),
        "events": paged(client.get_events, "events", "event_ticker", limit=1),
        "series": [s.ticker for s in client.get_series_list().series],  # one page in Kalshi's API
        "orders": paged(client.get_orders, "orders", "order_id", limit=2),
        "resting": paged(client.get_orders, "orders", "order_id", limit=2, status="resting"),
        "fills": paged(client.get_fills, "fills", "fill_id", limit=2),
        "positions": paged(client.get_positions, "market_positions", "ticker", limit=2),
        "settlements": paged(client.get_settlements, "settlements", "ticker", limit=1),
        "trades": paged(client.get_trades, "trades", "trade_id", limit=3),
    }


def pykalshi_walks(client: Any) -> Keys:
    """pykalshi's walks: ``fetch_all`` follows the cursor itself."""
    from pykalshi.enums import OrderStatus as Status  # noqa: PLC0415 (an optional client)

    portfolio = client.portfolio
    return {
        "markets": [m.ticker for m in client.get_markets(limit=2, fetch_all=True)],
        "events": [e.event_ticker for e in client.get_events(limit=1, fetch_all=True)],
        "series": [s.ticker for s in client.get_all_series(fetch_all=True)],
        "orders": [o.order_id for o in portfolio.get_orders(limit=2, fetch_all=True)],
        "resting": [
            o.order_id for o in portfolio.get_orders(status=Status.RESTING, limit=2, fetch_all=True)
        ],
        "fills": [f.trade_id for f in portfolio.get_fills(limit=2, fetch_all=True)],
        "positions": [p.ticker for p in portfolio.get_positions(limit=2, fetch_all=True)],
        "settlements": [s.ticker for s in portfolio.get_settlements(limit=1, fetch_all=True)],
        "trades": [t.trade_id for t in client.get_trades(limit=3, fetch_all=True)],
    }


async def place_and_cancel(exchange: LocalExchange, stop: asyncio.Event) -> int:
    """Dev orders placed and canceled over HTTP until ``stop``; how many round trips."""
    assert exchange.private_key_path is not None
    signer = Signer.from_file(exchange.api_key_id, exchange.private_key_path)
    path = "/portfolio/events/orders"
    rng, rounds = random.Random(5), 0
    async with httpx.AsyncClient(base_url=exchange.base_url, timeout=30.0) as http:

        async def send(method: str, where: str, **options: Any) -> httpx.Response:
            headers = signer.headers(method, httpx.URL(exchange.base_url + where).path)
            response = await http.request(method, where, headers=headers, **options)
            assert response.status_code < 300, response.text
            return response

        while not stop.is_set():
            body = {
                "ticker": rng.choice(OPEN),
                "side": "bid",
                "price": f"0.0{rng.randint(1, 4)}",
                "count": "1",
                "time_in_force": "good_till_canceled",
                "self_trade_prevention_type": "taker_at_cross",
            }
            placed = await send("POST", path, json=body)
            await send("DELETE", f"{path}/{placed.json()['order_id']}")
            rounds += 1
    return rounds


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[LocalExchange]:
    venue = Venue(ManualClock(START))
    for ticker in TICKERS:
        venue.list_market(_market(ticker))
    async with LocalExchange.running(
        venue=venue, key_dir=tmp_path, starting_balance=10_000 * DOLLAR
    ) as ex:
        seed_activity(venue)
        yield ex


async def walk_while_changing(exchange: LocalExchange, walks: Callable[[], Keys]) -> Churn:
    """Run ``walks`` in a worker thread with both kinds of change going; check every list."""
    venue = exchange.venue
    churn, served = Churn(venue), exchange.context.sync
    before = snapshot(venue)

    def sync_then_churn() -> None:
        served()
        churn()

    exchange.context.sync = sync_then_churn
    stop = asyncio.Event()
    other = asyncio.create_task(place_and_cancel(exchange, stop))
    try:
        seen = await asyncio.to_thread(walks)
    finally:
        exchange.context.sync = served
        stop.set()
        rounds = await other
    after = snapshot(venue)
    assert rounds > 0
    for name, keys in seen.items():
        assert len(keys) == len(set(keys)), f"{name}: seen twice"
        assert before[name] & after[name] <= set(keys), f"{name}: skipped"
        assert set(keys) <= before[name] | after[name] | _ever(venue, name), f"{name}: made up"
    assert before["resting"] - after["resting"], "no resting order left the list during the walk"
    assert after["fills"] - before["fills"], "no fill arrived during the walk"
    return churn


def _ever(venue: Venue, name: str) -> set[Any]:
    """Resting orders canceled mid-walk were in the list while the walk passed them."""
    return {o.order_id for o in venue.orders(DEV)} if name == "resting" else set()


async def test_the_official_sdk_pages_every_list_while_orders_change(
    exchange: LocalExchange,
) -> None:
    assert exchange.private_key_path is not None
    config = sdk.Configuration(host=exchange.base_url)
    config.api_key_id = exchange.api_key_id
    config.private_key_pem = exchange.private_key_path.read_text()
    client = sdk.KalshiClient(config)
    churn = await walk_while_changing(exchange, lambda: sdk_walks(client))
    assert churn.steps > 60  # a change before every page


async def test_pykalshi_pages_every_list_while_orders_change(exchange: LocalExchange) -> None:
    pykalshi = pytest.importorskip("pykalshi")
    assert exchange.private_key_path is not None
    client = pykalshi.KalshiClient(
        api_key_id=exchange.api_key_id,
        private_key_path=str(exchange.private_key_path),
        api_base=exchange.base_url,
    )
    with contextlib.closing(client):
        churn = await walk_while_changing(exchange, lambda: pykalshi_walks(client))
    assert churn.steps > 60
