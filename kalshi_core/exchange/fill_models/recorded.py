"""The honest fill models: prints fill our resting orders through a queue, never by a quote.

All three share :class:`RecordedBook`, a :class:`~kalshi_core.exchange.liquidity.LiquidityProvider`
whose levels only show the book (they are ``post_only``: a recorded quote never takes a
member's order) and whose prints do not go through the matching engine. Instead each recorded
print is shared among members' resting orders by
:func:`~kalshi_core.exchange.fill_models.queue.allocate_print` and filled against the tape
account at the order's own price; what is left of the print goes on the venue's tape as an
outside trade. The models differ only in where an order's queue starts and how recorded
depth changes move it (hftbacktest's queue models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kalshi_core.errors import ConfigError, ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import cost_of
from kalshi_core.exchange.book import OrderState
from kalshi_core.exchange.fill_models.queue import (
    Queued,
    allocate_print,
    power_queue_depth,
    risk_averse_depth,
)
from kalshi_core.exchange.liquidity import (
    LiquidityConfig,
    LiquidityProvider,
    _Key,
    _MarketQuotes,
    book_sizes,
)
from kalshi_core.exchange.venue import Venue
from kalshi_core.history_format import Quote
from kalshi_core.models import BookSide, Trade
from kalshi_core.money import CENT, DOLLAR, Count, Price
from kalshi_core.recording.format import BookQuote

__all__ = ["L2Replay", "ProbQueue", "RecordedBook", "TradeThrough"]

_FEE_ALLOWANCE: Price = 2 * CENT
_Depth = Callable[[Count, Count, Count, float], Count]


def _unchanged(ahead: Count, before: Count, after: Count, power: float = 0.0) -> Count:
    return ahead


class RecordedBook(LiquidityProvider):
    """Shows the recorded book and fills members' resting orders from prints, by queue.

    Subclasses set ``name``, ``estimate_unknown`` (start an order of unknown queue behind
    the displayed, possibly synthetic, size instead of "never at its price") and
    ``depth_rule`` (how a recorded size change at the order's price moves its queue).
    """

    name = "recorded-book"
    post_only = True
    estimate_unknown = False
    depth_rule: _Depth = staticmethod(_unchanged)
    power = 0.0

    def __init__(self, venue: Venue, **options: Any) -> None:
        super().__init__(venue, **options)
        self._queued: dict[str, dict[str, Queued]] = {}  # ticker -> order id -> queue
        self._sizes: dict[str, dict[_Key, Count]] = {}  # recorded displayed size at the touch
        venue.on_rest = self._on_rest

    # ---- the book ---------------------------------------------------------------------------

    def forget(self, ticker: str) -> None:
        super().forget(ticker)
        self._queued.pop(ticker, None)
        self._sizes.pop(ticker, None)

    def on_quote(self, quote: Quote) -> None:
        state = self._markets.get(quote.ticker)
        if state is None:
            return
        if isinstance(quote, BookQuote):
            super().on_quote(quote)
            return
        sizes = _recorded_sizes(quote)
        self._move_queues(quote.ticker, self._sizes.get(quote.ticker, {}), sizes)
        self._sizes[quote.ticker] = sizes
        super().on_quote(quote)

    def _show_book(self, quote: BookQuote, state: _MarketQuotes) -> None:
        """A recorded full book also moves members' queues, level by level."""
        wanted = book_sizes(quote)
        self._move_queues(quote.ticker, self._sizes.get(quote.ticker, {}), wanted)
        self._sizes[quote.ticker] = wanted
        super()._show_book(quote, state)

    def _new_level(self, ticker: str, state: _MarketQuotes, key: _Key, size: Count) -> None:
        recorded = self._sizes.get(ticker, {}).get(key)
        super()._new_level(ticker, state, key, size if recorded is None else recorded)

    def _restore(self, ticker: str, state: _MarketQuotes, key: _Key, level: Any) -> None:
        """A level members took stays taken until the recorded size there changes (one
        displayed size never fills several orders); a recorded size resets it."""
        recorded = self._sizes.get(ticker, {}).get(key)
        if recorded is None or recorded == level.size:
            return
        level.size = recorded
        super()._restore(ticker, state, key, level)

    def _move_queues(
        self, ticker: str, before: Mapping[_Key, Count], after: Mapping[_Key, Count]
    ) -> None:
        for queued in self._queued.get(ticker, {}).values():
            key = (queued.side, queued.price)
            if queued.ahead is not None and key in before and key in after:
                queued.ahead = self.depth_rule(queued.ahead, before[key], after[key], self.power)

    # ---- queues -----------------------------------------------------------------------------

    def _on_rest(self, order: OrderState) -> None:
        if order.account_id in (self.account, self.tape_account):
            return
        queued = Queued(
            order_id=order.order_id,
            side=order.side,
            price=order.price,
            sequence=order.sequence,
            remaining=order.remaining,
            ahead=self._ahead_at_placement(order),
        )
        self._queued.setdefault(order.ticker, {})[order.order_id] = queued

    def _ahead_at_placement(self, order: OrderState) -> Count | None:
        """Outside volume ahead: the recorded size there, zero when the order improves a
        recorded touch, else unknown (or, with ``estimate_unknown``, the displayed size)."""
        state = self._markets.get(order.ticker)
        displayed = self.venue.queue_position(order.order_id, accounts={self.account})
        if (order.side, order.price) in self._sizes.get(order.ticker, {}):
            return displayed
        if state is not None and state.quoted and _improves(state, order.side, order.price):
            return 0
        return displayed if self.estimate_unknown else None

    # ---- prints -----------------------------------------------------------------------------

    def on_trade(self, trade: Trade) -> None:
        state = self._markets.get(trade.ticker)
        if state is None:
            return
        if not state.quoted:
            self._infer_touch(state, trade)
            self._cancel_stale(trade.ticker, state)
        filled = self._fill_members(trade) if trade.count > 0 else 0
        self.stats.prints += 1
        self.stats.printed_count += trade.count
        if trade.count - filled > 0:
            self.venue.record_print(_rest_of(trade, trade.count - filled))
        self._fill_levels(trade.ticker, state)

    def _fill_members(self, trade: Trade) -> Count:
        """Share the print among members' resting orders; returns how much they took."""
        queued = self._queued.get(trade.ticker, {})
        live = {oid: q for oid, q in queued.items() if self._refresh(q)}
        self._queued[trade.ticker] = live
        maker = BookSide.ASK if trade.taker_book_side is BookSide.BID else BookSide.BID
        filled = 0
        for order, count in allocate_print(
            maker, trade.yes_price, trade.count, list(live.values())
        ):
            if self._cross(trade.ticker, order, count):
                filled += count
        return filled

    def _refresh(self, queued: Queued) -> bool:
        """Bring ``remaining`` up to date; False once the order left the book."""
        order = self.venue.order_state(queued.order_id)
        queued.remaining = order.remaining
        return order.in_book and order.price == queued.price

    def _cross(self, ticker: str, order: Queued, count: Count) -> bool:
        unit = order.price if order.side is BookSide.ASK else DOLLAR - order.price
        self._fund_tape(cost_of(unit + _FEE_ALLOWANCE, count) + CENT)
        try:
            self.venue.cross_resting(order.order_id, count, self.tape_account)
        except ExchangeError as error:
            if error.code != rules.INSUFFICIENT_BALANCE:
                raise
            self.stats.short_prints += 1
            return False
        order.remaining -= count
        return True


def _recorded_sizes(quote: Quote) -> dict[_Key, Count]:
    sizes: dict[_Key, Count] = {}
    if quote.yes_bid > 0 and quote.yes_bid_size is not None:
        sizes[(BookSide.BID, quote.yes_bid)] = quote.yes_bid_size
    if quote.yes_ask < DOLLAR and quote.yes_ask_size is not None:
        sizes[(BookSide.ASK, quote.yes_ask)] = quote.yes_ask_size
    return sizes


def _improves(state: _MarketQuotes, side: BookSide, price: Price) -> bool:
    """Whether ``price`` is better than the recorded touch on its own side."""
    touch = state.bid if side is BookSide.BID else state.ask
    if touch is None:
        return True
    return price > touch if side is BookSide.BID else price < touch


def _rest_of(trade: Trade, count: Count) -> Trade:
    return attrs.evolve(trade, count=count)


_TAKING = (
    "a member's order walks the book shown: the recorded top level at its recorded size "
    "(or, from prints alone, the touch inferred from them), then a synthetic ladder one tick "
    "a level deeper; what a member takes stays taken until the recorded size there changes"
)
_PRINTS = (
    "only recorded prints fill resting orders, at the order's own price, from prints at or "
    "through it on the opposite side of the taker; one print is shared in price-time order "
    "and never fills more than its size; quotes never fill a resting order"
)


class TradeThrough(RecordedBook):
    """The conservative default: a queue known only from recorded sizes, moved by prints."""

    name = "trade_through"

    def describe(self) -> dict[str, str]:
        return {
            "model": self.name,
            "resting": _PRINTS,
            "queue": "at placement an order queues behind the recorded displayed size at its "
            "price, or behind nothing when it improves a recorded touch; with no recorded "
            "size the queue is unknown and only prints through its price fill it; the queue "
            "moves only with prints at its price",
            "taking": _TAKING,
            "conservative": "yes: the default",
        }


class L2Replay(RecordedBook):
    """Recorded sizes at the touch; a shrinking recorded level caps the queue ahead."""

    name = "l2_replay"
    depth_rule = staticmethod(risk_averse_depth)

    def describe(self) -> dict[str, str]:
        return {
            "model": self.name,
            "resting": _PRINTS,
            "queue": "at placement an order queues behind the recorded displayed size at its "
            "price (quotes with yes_bid_size/yes_ask_size); when the recorded size there "
            "shrinks without a print, the queue ahead is capped at the new size "
            "(hftbacktest's RiskAverseQueueModel); with no recorded size, as trade-through",
            "taking": _TAKING,
            "conservative": "mostly: only recorded depth moves the queue beyond prints",
        }


class ProbQueue(RecordedBook):
    """hftbacktest's ProbQueueModel (power function) for cancels, estimated queues for
    trade-only data."""

    name = "prob_queue"
    estimate_unknown = True
    depth_rule = staticmethod(power_queue_depth)

    def __init__(self, venue: Venue, *, power: float = 2.0, **options: Any) -> None:
        if not 0 < power <= 10:
            raise ConfigError(f"fill_models.prob_queue.power must be in (0, 10], got {power}")
        super().__init__(venue, **options)
        self.power = power

    def describe(self) -> dict[str, str]:
        return {
            "model": self.name,
            "resting": _PRINTS,
            "queue": "at placement an order queues behind the displayed size at its price: "
            "the recorded size, else the synthetic level's size drawn with the run's seed "
            "(trade-only data); prints at its price move it forward, and a recorded level "
            "that shrinks without a print moves it forward by the share of the cancel "
            f"estimated ahead of it, f(back)/(f(back)+f(front)) behind with f(x)=x^{self.power}"
            " (hftbacktest's ProbQueueModel, PowerProbQueueFunc)",
            "taking": _TAKING,
            "conservative": "no: an estimated queue can be shorter than the real one",
        }


def builder(cls: type[RecordedBook] | type[LiquidityProvider]) -> Callable[..., Any]:
    """A ``register_fill_models`` factory: ``factory(section, *, venue, account,
    tape_account, seed)`` for ``cls``; ``section`` holds the model's settings."""

    def build(section: Mapping[str, Any], **runtime: Any) -> Any:
        options = dict(section)
        config = LiquidityConfig(levels=int(options.pop("levels", 3)))
        if options and cls is not ProbQueue:
            raise ConfigError(f"fill model {cls.name}: unknown settings {sorted(options)}")
        return cls(config=config, **options, **runtime)

    return build
