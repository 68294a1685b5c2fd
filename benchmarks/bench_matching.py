"""Matching-engine throughput: the local exchange against a naive reference book.

Run: ``python benchmarks/bench_matching.py [--orders N] [--markets M] [--seed S]``

One random flow (fixed seed) over many markets: ~50% passive GTC orders near the touch,
~30% orders that cross (IOC or GTC at an aggressive price), ~20% cancels of earlier orders.
The same flow is fed to

* the full :class:`kalshi_core.exchange.Venue` (validation, accounts, fees, fills, tape),
  through ``submit`` / ``submit_cancel``, and again through ``place_order`` / ``cancel``,
  which also build an Order report per call,
* the bare :class:`kalshi_core.exchange.book.Book` with a minimal matching loop (orders as
  bare integer keys, as the peers below are driven),
* a naive list-scan book (defined below): every match scans a plain list for the best
  price and earliest time, the textbook O(n) implementation.

and each prints its operations per second of CPU time (``time.process_time``: on a shared
machine the wall clock mostly measures the neighbours) next to its wall-clock seconds;
generating the flow is not timed. The collector is set up as ``kalshi-core run`` sets it
(``settle_gc``: the flow frozen, the youngest generation collected less often).

Then the order books against peers (``peer_books.py``): the Book's loop, a SortedDict book and
nautilus_trader's L3 book (when installed: ``tox -e bench-matching``) run the same flow, must
produce identical trades and resting orders, and print CPU ops/s and their ratio to the Book
(``--peer-rounds`` interleaved rounds, median; 0 skips them).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accounting_floor import Ledger, run_floor
from peer_books import match_keys, print_race

from kalshi_core.clock import ManualClock
from kalshi_core.engine.session import settle_gc
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.book import Book
from kalshi_core.models import BookSide, Market, MarketStatus, SelfTradePrevention, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

START = datetime(2026, 1, 1, tzinfo=UTC)
ACCOUNTS = [f"acct{i:02d}" for i in range(20)]


@dataclass(frozen=True, slots=True)
class Op:
    """One step of the flow: a new order, or a cancel of the order placed at ``target``."""

    kind: str  # "order" | "cancel"
    market: int
    account: str = ""
    side: BookSide = BookSide.BID
    price: int = 0
    count: int = 0
    ioc: bool = False
    target: int = -1


def make_flow(orders: int, markets: int, seed: int) -> list[Op]:
    rng = random.Random(seed)
    mids = [rng.randint(20, 80) * 100 for _ in range(markets)]
    flow: list[Op] = []
    placed: list[int] = []  # flow indexes of orders, for cancels
    while len(flow) < orders:
        market = rng.randrange(markets)
        roll = rng.random()
        if roll < 0.2 and placed:
            target = rng.choice(placed[-2000:])
            flow.append(Op("cancel", flow[target].market, target=target))
            continue
        side = BookSide.BID if rng.random() < 0.5 else BookSide.ASK
        crossing = roll >= 0.7
        offset = rng.randint(1, 5) if crossing else -rng.randint(1, 10)
        price = mids[market] + (offset if side is BookSide.BID else -offset) * 100
        price = min(max(price, 100), DOLLAR - 100)
        ioc = crossing and rng.random() < 0.5
        count = rng.randint(1, 10) * CONTRACT
        placed.append(len(flow))
        flow.append(Op("order", market, rng.choice(ACCOUNTS), side, price, count, ioc))
    return flow


def tickers(markets: int) -> list[str]:
    return [f"KXBENCH-{i:03d}" for i in range(markets)]


# ---- 1. the full venue ------------------------------------------------------------------


def new_venue(names: list[str]) -> Venue:
    venue = Venue(ManualClock(START))
    for ticker in names:
        venue.list_market(
            Market(
                ticker=ticker,
                event_ticker="KXBENCH",
                status=MarketStatus.ACTIVE,
                open_time=START,
                close_time=START + timedelta(days=1),
            )
        )
    for account in ACCOUNTS:
        venue.deposit(account, 10**9 * DOLLAR)
    return venue


def run_venue(flow: list[Op], markets: int) -> tuple[int, int]:
    """The full venue through ``submit`` / ``submit_cancel``: every check and all the
    accounting (reserves, cash, fees, fills, tape), no Order report built per call."""
    return _drive_venue(flow, markets, reports=False)


def run_venue_reports(flow: list[Op], markets: int) -> tuple[int, int]:
    """The same through ``place_order`` / ``cancel``, which also build an Order report."""
    return _drive_venue(flow, markets, reports=True)


def _drive_venue(flow: list[Op], markets: int, *, reports: bool) -> tuple[int, int]:
    names = tickers(markets)
    venue = new_venue(names)
    place = venue.place_order if reports else venue.submit
    cancel = venue.cancel if reports else venue.submit_cancel
    ids: dict[int, tuple[str, str]] = {}
    canceled = 0
    for index, op in enumerate(flow):
        if op.kind == "cancel":
            account, order_id = ids[op.target]
            try:
                cancel(account, order_id)
                canceled += 1
            except ExchangeError:
                pass  # already filled or canceled
            continue
        placed = place(
            VenueOrder(
                account=op.account,
                ticker=names[op.market],
                side=op.side,
                price=op.price,
                count=op.count,
                time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL
                if op.ioc
                else TimeInForce.GOOD_TILL_CANCELED,
                self_trade_prevention_type=SelfTradePrevention.MAKER,
            )
        )
        ids[index] = (op.account, placed if isinstance(placed, str) else placed.order_id)
    return len(venue.trades()), canceled


# ---- 2. the bare book with a minimal matching loop ---------------------------------------


def run_book(flow: list[Op], markets: int) -> tuple[int, int]:
    """The Book driven by bare keys (the flow positions): no per-order objects."""
    books = [Book(t) for t in tickers(markets)]
    trades: list[tuple[int, int, int, int]] = []
    canceled = 0
    for index, op in enumerate(flow):
        book = books[op.market]
        if op.kind == "cancel":
            if op.target in book.remaining:
                book.cancel(op.target)
                canceled += 1
            continue
        is_bid = op.side is BookSide.BID
        left = match_keys(book, index, is_bid, op.price, op.count, trades)
        if left and not op.ioc:
            book.rest(index, is_bid, op.price, left)
    return len(trades), canceled


def run_accounting_floor(flow: list[Op], markets: int) -> tuple[int, int]:
    """The Book's loop plus the least accounting any venue needs (accounting_floor.py)."""
    return run_floor(flow, tickers(markets), Ledger(ACCOUNTS, 10**9 * DOLLAR))


# ---- 3. the naive reference ----------------------------------------------------------------


class NaiveBook:
    """Resting orders in one list; every match scans it all for the best price and time."""

    def __init__(self) -> None:
        self.orders: list[list[int]] = []  # [side(0 bid,1 ask), price, seq, remaining]

    def best(self, side: int) -> list[int] | None:
        found: list[int] | None = None
        for entry in self.orders:
            if entry[0] != side:
                continue
            if found is None:
                found = entry
                continue
            better = entry[1] > found[1] if side == 0 else entry[1] < found[1]
            if better or (entry[1] == found[1] and entry[2] < found[2]):
                found = entry
        return found

    def submit(
        self, side: int, price: int, seq: int, count: int, ioc: bool
    ) -> tuple[int, list[int] | None]:
        trades = 0
        while count:
            maker = self.best(1 - side)
            if maker is None or (maker[1] > price if side == 0 else maker[1] < price):
                break
            qty = min(count, maker[3])
            maker[3] -= qty
            count -= qty
            trades += 1
            if maker[3] == 0:
                self.orders.remove(maker)
        if count and not ioc:
            entry = [side, price, seq, count]
            self.orders.append(entry)
            return trades, entry
        return trades, None


def run_naive(flow: list[Op], markets: int) -> tuple[int, int]:
    books = [NaiveBook() for _ in range(markets)]
    resting: dict[int, list[int]] = {}
    trades = canceled = 0
    for index, op in enumerate(flow):
        book = books[op.market]
        if op.kind == "cancel":
            entry = resting.pop(op.target, None)
            if entry is not None and entry[3] > 0:
                book.orders.remove(entry)
                canceled += 1
            continue
        side = 0 if op.side is BookSide.BID else 1
        made, entry = book.submit(side, op.price, index, op.count, op.ioc)
        trades += made
        if entry is not None:
            resting[index] = entry
    return trades, canceled


# ---- driver ---------------------------------------------------------------------------------


def timed(
    run: Callable[[list[Op], int], tuple[int, int]], flow: list[Op], markets: int
) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, trades, cancels) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    trades, canceled = run(flow, markets)
    return time.perf_counter() - wall, time.process_time() - cpu, trades, canceled


def race(
    rows: list[tuple[str, Callable[[list[Op], int], tuple[int, int]] | None]],
    flow: list[Op],
    markets: int,
) -> list[tuple[int, int]]:
    """Run and print each row; returns each row's (trades, cancels)."""
    header = (
        f"{'implementation':<38}{'wall s':>8}{'CPU s':>8}{'ops/s':>11}{'trades':>9}{'cancels':>9}"
    )
    print(header)
    print("-" * len(header))
    results, rates = [], []
    for name, run in rows:
        if run is None:
            print(f"{name:<38}  n/a (this kalshi-core has no Venue.submit)")
            results.append((0, 0))
            rates.append(0.0)
            continue
        wall, cpu, trades, canceled = timed(run, flow, markets)
        results.append((trades, canceled))
        rates.append(len(flow) / cpu)
        print(
            f"{name:<38}{wall:>8.2f}{cpu:>8.2f}{len(flow) / cpu:>11,.0f}{trades:>9,}{canceled:>9,}"
        )
    print(f"Venue / Book: {rates[0] / rates[2]:.2f}x (with reports {rates[1] / rates[2]:.2f}x)")
    print(f"least accounting / Book: {rates[3] / rates[2]:.2f}x (no Python venue can beat it)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--orders", type=int, default=200_000, help="flow length (orders + cancels)"
    )
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-rounds", type=int, default=3, help="0: skip the peer books")
    args = parser.parse_args()
    flow = make_flow(args.orders, args.markets, args.seed)
    settle_gc()  # as `kalshi-core run` does once its long-lived objects are built
    new_orders = sum(op.kind == "order" for op in flow)
    print(
        f"flow: {len(flow):,} operations ({new_orders:,} new orders, "
        f"{len(flow) - new_orders:,} cancel attempts) over {args.markets} markets, seed {args.seed}"
    )
    # A kalshi-core from before Venue.submit (PYTHONPATH=<older checkout>, for a before/after
    # comparison in one run) has only the reporting path: its first row is left out.
    rows = [
        ("kalshi_core Venue (full accounting)", run_venue if hasattr(Venue, "submit") else None),
        ("  the same with Order reports", run_venue_reports),
        ("kalshi_core Book (matching only)", run_book),
        ("Book + least accounting (a floor)", run_accounting_floor),
        ("naive list-scan book (reference)", run_naive),
    ]
    results = race(rows, flow, args.markets)
    agree = "agree" if results[2] == results[3] == results[4] else "DISAGREE"
    print(f"Book, floor and naive reference {agree} on trades and cancels; the Venue differs")
    print("a little because its self-trade prevention (20 accounts) cancels some resting orders.")
    if args.peer_rounds > 0:
        print_race(flow, args.markets, args.peer_rounds)


if __name__ == "__main__":
    main()
