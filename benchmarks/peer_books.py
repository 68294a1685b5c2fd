"""Peer order books for ``bench_matching.py``: the same flow, the same trades, who is faster.

Three books run the bench's flow (GTC/IOC limit orders and cancels, YES-price bids and asks,
integer prices and counts) with the same minimal matching loop: read the best price of the
other side, stop if it does not cross, otherwise fill against the first order in line there
(delete it when used up, shrink it in place when not), rest what is left of a GTC order.

* kalshi-core's :class:`~kalshi_core.exchange.book.Book` (the loop of ``bench_matching.py``),
  driven by bare integer keys as the peers are driven by integer order ids, and again through
  the venue's interface (one ``OrderState`` per order),
* a plain pure-Python book on ``sortedcontainers.SortedDict`` (price -> insertion-ordered dict),
* nautilus_trader's L3 (market-by-order) ``OrderBook``, its Rust book driven from Python,
  through both of its Python bindings: the Cython ``nautilus_trader.model.book.OrderBook`` and
  the PyO3 ``nautilus_trader.core.nautilus_pyo3.OrderBook`` (optional: Python >= 3.12, the
  ``bench-matching`` extra; ``tox -e bench-matching``).

Each run returns its trades (maker order, taker order, price, count) and the orders left
resting; :func:`first_difference` names the first place two runs disagree. Timing is CPU time
(``time.process_time``), rounds interleaved, the median kept.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Protocol

from sortedcontainers import SortedDict

from kalshi_core.exchange.book import Book, OrderState
from kalshi_core.models import BookSide, SelfTradePrevention, TimeInForce

Trade = tuple[int, int, int, int]  # maker order, taker order, price, count
Resting = tuple[int, int, bool, int, int]  # market, order, is_bid, price, remaining
INSTALL_HINT = (
    "nautilus_trader skipped (not importable here: it needs Python >= 3.12); "
    "run `tox -e bench-matching`, or pip install -e '.[bench-matching]' on Python 3.12"
)


class FlowOp(Protocol):
    """One step of ``bench_matching.make_flow``'s flow (``bench_matching.Op``)."""

    @property
    def kind(self) -> str: ...
    @property
    def market(self) -> int: ...
    @property
    def side(self) -> BookSide: ...
    @property
    def price(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def ioc(self) -> bool: ...
    @property
    def target(self) -> int: ...


@dataclass(slots=True)
class Outcome:
    """What one book made of the flow: its trades in order, and what still rests."""

    trades: list[Trade] = field(default_factory=list)
    resting: list[Resting] = field(default_factory=list)


Runner = Callable[[Sequence[FlowOp], int], Outcome]
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


# ---- kalshi-core's Book, with the bench's minimal matching loop ------------------------------


def run_kalshi_book(flow: Sequence[FlowOp], markets: int) -> Outcome:
    """``bench_matching.run_book``'s loop: the Book driven by bare keys (the flow positions),
    as the peers are driven by integers."""
    books = [Book(f"KXBENCH-{i:03d}") for i in range(markets)]
    outcome = Outcome()
    for index, op in enumerate(flow):
        book = books[op.market]
        if op.kind == "cancel":
            if op.target in book.remaining:
                book.cancel(op.target)
            continue
        is_bid = op.side is BookSide.BID
        left = match_keys(book, index, is_bid, op.price, op.count, outcome.trades)
        if left and not op.ioc:
            book.rest(index, is_bid, op.price, left)
    for market, book in enumerate(books):
        for is_bid in (True, False):
            outcome.resting.extend(
                (market, key, is_bid, price, left) for key, price, left in book.queued(is_bid)
            )
    return outcome


def match_keys(
    book: Book, taker: int, is_bid: bool, limit: int, count: int, trades: list[Trade]
) -> int:
    """Fill ``taker`` against the other side while it crosses; return the count left over."""
    makers = book.asks if is_bid else book.bids
    remaining = book.remaining
    while count:
        best, maker = makers.best, makers.front
        if best is None or maker is None or (best > limit if is_bid else best < limit):
            break
        left = remaining[maker]
        qty = count if count < left else left
        trades.append((maker, taker, best, qty))
        book.resize(maker, left - qty)
        count -= qty
    return count


def run_kalshi_orders(flow: Sequence[FlowOp], markets: int) -> Outcome:
    """The same through the venue's interface: one ``OrderState`` per order."""
    books = [Book(f"KXBENCH-{i:03d}") for i in range(markets)]
    orders: dict[int, OrderState] = {}
    outcome = Outcome()
    for index, op in enumerate(flow):
        book = books[op.market]
        if op.kind == "cancel":
            target = orders[op.target]
            if target.in_book:
                book.remove(target)
            continue
        order = _order_state(index, op, book.ticker)
        orders[index] = order
        _kalshi_match(book, order, outcome.trades)
        if order.remaining and not op.ioc:
            book.add(order)
    for market, book in enumerate(books):
        outcome.resting.extend(
            (market, int(o.order_id), o.side is BookSide.BID, o.price, o.remaining)
            for o in book.resting()
        )
    return outcome


def _order_state(index: int, op: FlowOp, ticker: str) -> OrderState:
    return OrderState(
        order_id=str(index), client_order_id=str(index), account_id="bench", ticker=ticker,
        side=op.side, price=op.price, count=op.count,
        time_in_force=TimeInForce.GOOD_TILL_CANCELED, post_only=False, reduce_only=False,
        self_trade_prevention=SelfTradePrevention.MAKER, expiration_time=None,
        now=_EPOCH, sequence=index,
    )  # fmt: skip


def _kalshi_match(book: Book, taker: OrderState, trades: list[Trade]) -> None:
    is_bid = taker.side is BookSide.BID
    maker_side = BookSide.ASK if is_bid else BookSide.BID
    taker_id = int(taker.order_id)
    while taker.remaining:
        maker = book.head(maker_side)
        if maker is None or (maker.price > taker.price if is_bid else maker.price < taker.price):
            break
        qty = min(taker.remaining, maker.remaining)
        trades.append((int(maker.order_id), taker_id, maker.price, qty))
        book.set_remaining(maker, maker.remaining - qty)
        taker.remaining -= qty


# ---- a plain SortedDict book -------------------------------------------------------------------


class SortedDictBook:
    """Price levels in a ``SortedDict`` (best first), each a dict of order -> remaining (FIFO)."""

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict(_negate)  # highest price first
        self.asks: SortedDict = SortedDict()
        self.where: dict[int, tuple[SortedDict, int]] = {}  # resting order -> its side, price

    def submit(self, order: int, is_bid: bool, price: int, count: int, trades: list[Trade]) -> int:
        """Match against the other side; return the count left over (not rested here)."""
        makers = self.asks if is_bid else self.bids
        while count and makers:
            best, level = makers.peekitem(0)
            if best > price if is_bid else best < price:
                break
            maker, left = next(iter(level.items()))
            qty = min(count, left)
            trades.append((maker, order, best, qty))
            count -= qty
            if qty < left:
                level[maker] = left - qty
            else:
                self._unlink(maker, makers, best, level)
        return count

    def rest(self, order: int, is_bid: bool, price: int, count: int) -> None:
        side = self.bids if is_bid else self.asks
        level = side.get(price)
        if level is None:
            level = side[price] = {}
        level[order] = count
        self.where[order] = (side, price)

    def cancel(self, order: int) -> None:
        found = self.where.get(order)
        if found is not None:
            side, price = found
            self._unlink(order, side, price, side[price])

    def resting(self, market: int) -> Iterator[Resting]:
        for is_bid, side in ((True, self.bids), (False, self.asks)):
            for price, level in side.items():
                for order, left in level.items():
                    yield market, order, is_bid, price, left

    def _unlink(self, order: int, side: SortedDict, price: int, level: dict[int, int]) -> None:
        del level[order]
        del self.where[order]
        if not level:
            del side[price]


def _negate(price: int) -> int:
    return -price


class PeerBook(Protocol):
    """What :func:`run_peer` drives: a book keyed by the flow's order index, in cents."""

    def submit(
        self, order: int, is_bid: bool, price: int, count: int, trades: list[Trade]
    ) -> int: ...

    def rest(self, order: int, is_bid: bool, price: int, count: int) -> None: ...

    def cancel(self, order: int) -> None: ...

    def resting(self, market: int) -> Iterator[Resting]: ...


def run_sorted_dict(flow: Sequence[FlowOp], markets: int) -> Outcome:
    return run_peer([SortedDictBook() for _ in range(markets)], flow)


# ---- nautilus_trader's L3 book (optional) -------------------------------------------------------


class NautilusL3:
    """One market's nautilus ``OrderBook`` (L3_MBO) through one binding, with integer I/O.

    Prices are 1/10,000 $ at precision 4, counts 1/100 contract as whole quantities; the
    ``Price``/``Quantity`` objects are cached per integer, so the loop pays only the book.
    """

    def __init__(self, api: SimpleNamespace, ticker: str) -> None:
        self.api = api
        self.book = api.new_book(ticker)
        self.live: dict[int, Any] = {}  # resting order -> its BookOrder, for cancels

    def submit(self, order: int, is_bid: bool, price: int, count: int, trades: list[Trade]) -> int:
        api = self.api
        best_of = self.book.best_ask_price if is_bid else self.book.best_bid_price
        while count:
            best = best_of()
            if best is None:
                break
            best_price = best.raw // api.price_unit
            if best_price > price if is_bid else best_price < price:
                break
            maker = api.head(self.book, not is_bid)
            left = maker.size.raw // api.size_unit
            qty = min(count, left)
            trades.append((maker.order_id, order, best_price, qty))
            count -= qty
            if qty < left:
                shrunk = api.order(maker.side, best, api.size(left - qty), maker.order_id)
                api.update(self.book, shrunk)
            else:
                api.delete(self.book, self.live.pop(maker.order_id))
        return count

    def rest(self, order: int, is_bid: bool, price: int, count: int) -> None:
        api = self.api
        side = api.buy if is_bid else api.sell
        entry = api.order(side, api.price(price), api.size(count), order)
        api.add(self.book, entry)
        self.live[order] = entry

    def cancel(self, order: int) -> None:
        entry = self.live.pop(order, None)
        if entry is not None:
            self.api.delete(self.book, entry)

    def resting(self, market: int) -> Iterator[Resting]:
        api = self.api
        for is_bid in (True, False):
            for level in api.levels(self.book, is_bid):
                for entry in level:
                    price = entry.price.raw // api.price_unit
                    yield market, entry.order_id, is_bid, price, entry.size.raw // api.size_unit


def nautilus_apis() -> dict[str, SimpleNamespace]:
    """Both bindings of nautilus_trader's book, or {} when nautilus_trader is not installed."""
    try:
        from nautilus_trader.core import nautilus_pyo3 as pyo3  # noqa: PLC0415
        from nautilus_trader.model import book as cython_book  # noqa: PLC0415
        from nautilus_trader.model import data, enums, identifiers, objects  # noqa: PLC0415
    except ImportError:
        return {}
    cython = SimpleNamespace(
        new_book=lambda t: cython_book.OrderBook(
            identifiers.InstrumentId.from_str(f"{t}.KALSHI"), enums.BookType.L3_MBO
        ),
        order=data.BookOrder, buy=enums.OrderSide.BUY, sell=enums.OrderSide.SELL,
        add=lambda b, o: b.add(o, 0), update=lambda b, o: b.update(o, 0),
        delete=lambda b, o: b.delete(o, 0),
        head=lambda b, is_bid: (b.bids() if is_bid else b.asks())[0].orders()[0],
        levels=lambda b, is_bid: [lv.orders() for lv in (b.bids() if is_bid else b.asks())],
    )  # fmt: skip
    rust = SimpleNamespace(
        new_book=lambda t: pyo3.OrderBook(
            pyo3.InstrumentId.from_str(f"{t}.KALSHI"), pyo3.BookType.L3_MBO
        ),
        order=pyo3.BookOrder, buy=pyo3.OrderSide.BUY, sell=pyo3.OrderSide.SELL,
        add=lambda b, o: b.add(o, 0, 0, 0), update=lambda b, o: b.update(o, 0, 0, 0),
        delete=lambda b, o: b.delete(o, 0, 0, 0),
        head=lambda b, is_bid: (b.bids(1) if is_bid else b.asks(1))[0].first(),
        levels=lambda b, is_bid: [lv.get_orders() for lv in (b.bids() if is_bid else b.asks())],
    )  # fmt: skip
    for api, module in ((cython, objects), (rust, pyo3)):
        _add_units(api, module.Price, module.Quantity)
    return {"cython": cython, "pyo3": rust}


def _add_units(api: SimpleNamespace, price_type: Any, size_type: Any) -> None:
    """Integer -> Price/Quantity caches, and the raw units to read integers back."""
    prices: dict[int, Any] = {}
    sizes: dict[int, Any] = {}

    def price(value: int) -> Any:
        found = prices.get(value)
        if found is None:
            found = prices[value] = price_type(value / 10_000, 4)
        return found

    def size(value: int) -> Any:
        found = sizes.get(value)
        if found is None:
            found = sizes[value] = size_type.from_int(value)
        return found

    api.price, api.size = price, size
    api.price_unit, api.size_unit = price(1).raw, size(1).raw


def nautilus_runner(api: SimpleNamespace) -> Runner:
    def run(flow: Sequence[FlowOp], markets: int) -> Outcome:
        return run_peer([NautilusL3(api, f"KXBENCH-{i:03d}") for i in range(markets)], flow)

    return run


def run_peer(books: Sequence[PeerBook], flow: Sequence[FlowOp]) -> Outcome:
    outcome = Outcome()
    for index, op in enumerate(flow):
        book = books[op.market]
        if op.kind == "cancel":
            book.cancel(op.target)
            continue
        is_bid = op.side is BookSide.BID
        left = book.submit(index, is_bid, op.price, op.count, outcome.trades)
        if left and not op.ioc:
            book.rest(index, is_bid, op.price, left)
    for market, book in enumerate(books):
        outcome.resting.extend(book.resting(market))
    return outcome


# ---- comparing and timing -----------------------------------------------------------------------


def first_difference(expected: Outcome, got: Outcome) -> str | None:
    """Where ``got`` first departs from ``expected`` (trades, then resting orders), or None."""
    for what in ("trades", "resting"):
        want, have = getattr(expected, what), getattr(got, what)
        for position, (a, b) in enumerate(zip(want, have, strict=False)):
            if a != b:
                return f"{what}[{position}]: expected {a}, got {b}"
        if len(want) != len(have):
            return f"{what}: expected {len(want):,} entries, got {len(have):,}"
    return None


def peer_runners() -> dict[str, Runner]:
    """Every book to race, kalshi-core's first (the reference of the ratios)."""
    runners: dict[str, Runner] = {
        "kalshi_core Book": run_kalshi_book,
        "kalshi_core Book, one OrderState per order": run_kalshi_orders,
        "SortedDict book (pure Python)": run_sorted_dict,
    }
    for name, api in nautilus_apis().items():
        runners[f"nautilus_trader L3 OrderBook ({name})"] = nautilus_runner(api)
    return runners


def race(
    runners: Mapping[str, Runner], flow: Sequence[FlowOp], markets: int, rounds: int
) -> dict[str, tuple[float, Outcome]]:
    """Median CPU seconds per runner over ``rounds`` interleaved rounds, and its outcome.

    Raises AssertionError naming the first difference when a book disagrees with the first.
    """
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    outcomes: dict[str, Outcome] = {}
    for _ in range(rounds):
        for name, run in runners.items():
            began = time.process_time()
            outcome = run(flow, markets)
            seconds[name].append(time.process_time() - began)
            outcomes.setdefault(name, outcome)
    reference_name = next(iter(runners))
    for name, outcome in outcomes.items():
        difference = first_difference(outcomes[reference_name], outcome)
        if difference is not None:
            raise AssertionError(f"{name} disagrees with {reference_name}: {difference}")
    return {name: (statistics.median(seconds[name]), outcomes[name]) for name in runners}


def print_race(flow: Sequence[FlowOp], markets: int, rounds: int) -> None:
    """The peers table of ``bench_matching.py``: ops/s and time relative to kalshi-core."""
    runners = peer_runners()
    results = race(runners, flow, markets, rounds)
    reference = next(iter(results.values()))[0]
    print(f"\norder books against peers: median CPU time of {rounds} interleaved rounds")
    header = f"{'book':<44}{'CPU s':>8}{'ops/s':>11}{'vs Book':>9}{'trades':>9}{'resting':>9}"
    print(header)
    print("-" * len(header))
    for name, (cpu, outcome) in results.items():
        print(
            f"{name:<44}{cpu:>8.2f}{len(flow) / cpu:>11,.0f}{cpu / reference:>8.2f}x"
            f"{len(outcome.trades):>9,}{len(outcome.resting):>9,}"
        )
    print("all books agree on every trade (maker, taker, price, count) and every resting order")
    print("'vs Book': CPU time relative to kalshi_core Book; above 1.00x the peer is slower")
    if not any("nautilus" in name for name in runners):
        print(INSTALL_HINT)
