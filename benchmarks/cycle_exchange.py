"""The exchange side of ``bench_cycle.py``: a local exchange listing thousands of open markets.

:func:`build_venue` lists ``markets`` active markets across ``markets // 10`` events (varied
series, strikes and close times), has a maker account quote two levels on each side of most
of them (some one-sided, some wide), and has a flow account trade against the maker so that
part of the markets carry enough 24-hour volume to pass the liquidity validator.

:func:`serving_exchange` serves that venue from a **separate process** on 127.0.0.1, so the
engine's timings in the benchmark are the engine's own, as they are against Kalshi.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import attrs

from kalshi_core.clock import SystemClock
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.venue import Venue, VenueOrder
from kalshi_core.models import BookSide, Market, MarketStatus
from kalshi_core.money import CONTRACT, DOLLAR, Money

MAKER = "maker"
FLOW = "flow"
CENT = DOLLAR // 100
MARKETS_PER_EVENT = 10
DEV_BALANCE: Money = 10_000 * DOLLAR
SERIES = (
    "KXBTC",
    "KXETH",
    "KXINX",
    "KXNASDAQ",
    "KXHIGHNY",
    "KXHIGHCHI",
    "KXCPI",
    "KXFED",
    "KXNBA",
    "KXNFL",
    "KXMLB",
    "KXGAS",
    "KXOIL",
    "KXGOLD",
    "KXEURUSD",
    "KXRAIN",
    "KXSNOW",
    "KXPAYROLLS",
    "KXGDP",
    "KXTSA",
)
SPREADS_CENTS = (1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 12, 20)


@attrs.frozen(kw_only=True)
class ExchangeInfo:
    """Where the served exchange listens and the dev key that trades on it."""

    base_url: str
    api_key_id: str
    private_key_path: str
    markets: int
    events: int


@attrs.frozen(kw_only=True)
class MarketPlan:
    """One market's listing and book, drawn from the seeded generator."""

    market: Market
    mid_cents: int
    spread_cents: int
    one_sided: bool
    traded_contracts: int


def _close_time(rng: random.Random, now: datetime) -> datetime:
    """Mostly 2 hours to 25 days out; a few too soon or too far for ``time_to_close``."""
    roll = rng.random()
    if roll < 0.03:
        return now + timedelta(minutes=rng.randint(10, 50))
    if roll < 0.06:
        return now + timedelta(days=rng.randint(35, 90))
    return now + timedelta(seconds=rng.randint(2 * 3600, 25 * 86_400))


def _traded_contracts(rng: random.Random) -> int:
    """About 40% of markets trade 100-600 contracts (liquid); the rest little or nothing."""
    if rng.random() < 0.4:
        return rng.randint(100, 600)
    return rng.choice((0, 0, 0, 5, 20, 60))


def plan_market(rng: random.Random, index: int, now: datetime) -> MarketPlan:
    series = SERIES[(index // MARKETS_PER_EVENT) % len(SERIES)]
    event = f"{series}-26{index // MARKETS_PER_EVENT:04d}"
    spread = rng.choice(SPREADS_CENTS)
    mid = rng.randint(2 + spread, 98 - spread)
    market = Market(
        ticker=f"{event}-T{index % MARKETS_PER_EVENT * 5 + rng.randint(0, 4)}X{index}",
        event_ticker=event,
        status=MarketStatus.ACTIVE,
        open_time=now - timedelta(days=rng.randint(1, 30)),
        close_time=_close_time(rng, now),
        title=f"Will {series} settle above strike {index % MARKETS_PER_EVENT}?",
    )
    return MarketPlan(
        market=market,
        mid_cents=mid,
        spread_cents=spread,
        one_sided=rng.random() < 0.05,
        traded_contracts=_traded_contracts(rng),
    )


def _order(account: str, ticker: str, side: BookSide, cents: int, contracts: int) -> VenueOrder:
    return VenueOrder(
        account=account, ticker=ticker, side=side, price=cents * CENT, count=contracts * CONTRACT
    )


def _trade(venue: Venue, plan: MarketPlan) -> None:
    """The flow account lifts a maker offer at the mid: volume, open interest, last price."""
    ticker, contracts = plan.market.ticker, plan.traded_contracts
    venue.place_order(_order(MAKER, ticker, BookSide.ASK, plan.mid_cents, contracts))
    venue.place_order(_order(FLOW, ticker, BookSide.BID, plan.mid_cents, contracts))


def _quote(rng: random.Random, venue: Venue, plan: MarketPlan) -> None:
    """Two levels each side around the mid (the bid side only when one-sided)."""
    ticker = plan.market.ticker
    bid = plan.mid_cents - plan.spread_cents // 2
    ask = bid + plan.spread_cents
    for level in range(2):
        if bid - level >= 1:
            venue.place_order(
                _order(MAKER, ticker, BookSide.BID, bid - level, rng.randint(10, 400))
            )
        if not plan.one_sided and ask + level <= 99:
            venue.place_order(
                _order(MAKER, ticker, BookSide.ASK, ask + level, rng.randint(10, 400))
            )


def build_venue(markets: int, seed: int = 7) -> Venue:
    """A venue on the system clock with ``markets`` active, quoted, partly traded markets."""
    rng = random.Random(seed)
    venue = Venue(SystemClock())
    venue.deposit(MAKER, 100_000_000 * DOLLAR)
    venue.deposit(FLOW, 100_000_000 * DOLLAR)
    now = datetime.now(UTC)
    for index in range(markets):
        plan = plan_market(rng, index, now)
        venue.list_market(plan.market)
        if plan.traded_contracts:
            _trade(venue, plan)
        _quote(rng, venue, plan)
    return venue


async def _serve(markets: int, key_dir: Path, reply: Connection) -> None:
    exchange = LocalExchange.create(
        venue=build_venue(markets), key_dir=key_dir, starting_balance=DEV_BALANCE
    )
    async with exchange.serving("127.0.0.1", 0, handle_signals=True):
        reply.send(
            ExchangeInfo(
                base_url=exchange.base_url,
                api_key_id=exchange.api_key_id,
                private_key_path=str(exchange.private_key_path),
                markets=markets,
                events=-(-markets // MARKETS_PER_EVENT),
            )
        )
        await exchange.wait_stopped()


def serve_in_child(markets: int, key_dir: str, reply: Connection) -> None:
    """Entry point of the exchange process; SIGTERM stops it cleanly."""
    asyncio.run(_serve(markets, Path(key_dir), reply))


def _wait_ready(process: BaseProcess, receive: Connection, timeout: float) -> ExchangeInfo:
    """The child's announcement; fails fast if the child dies before it is ready."""
    deadline = time.monotonic() + timeout
    while not receive.poll(0.1):
        if not process.is_alive():
            raise ConfigError(f"the benchmark exchange process exited ({process.exitcode})")
        if time.monotonic() > deadline:
            raise ConfigError(f"the benchmark exchange did not start within {timeout:g}s")
    info: ExchangeInfo = receive.recv()
    return info


@contextlib.contextmanager
def serving_exchange(markets: int, key_dir: Path, timeout: float = 120.0) -> Iterator[ExchangeInfo]:
    """Start the exchange process, yield where it listens, stop it (and only it) afterwards."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=serve_in_child, args=(markets, str(key_dir), send), name="bench-exchange"
    )
    process.start()
    try:
        yield _wait_ready(process, receive, timeout)
    finally:
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
