"""A background market maker that gives replayed markets a book and a tape that follow history.

The :class:`LiquidityProvider` quotes a ladder of resting bids and asks (a few levels on the
market's price grid, seeded random sizes) around a *touch*:

* from a recorded quote (``yes_bid`` / ``yes_ask``), the touch is the recorded one;
* from trade prints alone, the touch is inferred: a YES-taker print at ``p`` lifted the ask, so
  the ask was ``p``; a NO-taker print at ``p`` hit the bid. The other side sits a spread away,
  twice a half-spread estimated from recent prints (at least one tick).

Each recorded print is also put on the venue's tape: the provider rests the print's maker side
at the recorded price and a second internal account (the *tape*, funded on demand) takes it
with an immediate-or-cancel order of the recorded size, so last price and volume follow
history. Two accounts are needed because self-trade prevention stops an account trading with
itself. A strategy's own better-priced orders are hit first, as they would have been.

The provider's cash is fixed; when an order is unaffordable it quotes less, never below zero.
"""

from __future__ import annotations

import bisect
import itertools
import random

import attrs

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import cost_of
from kalshi_core.exchange.venue import Venue, VenueOrder
from kalshi_core.history_format import Quote
from kalshi_core.models import BookSide, Market, TimeInForce, Trade
from kalshi_core.money import CENT, CONTRACT, DOLLAR, Count, Money, Price
from kalshi_core.recording.format import BookQuote

__all__ = ["LiquidityConfig", "LiquidityProvider", "ProviderStats"]

# The tape pays taker fees; Kalshi's worst is under 2 cents a contract, rounded up to a cent.
_FEE_ALLOWANCE_PER_CONTRACT: Money = 2 * CENT

_Key = tuple[BookSide, Price]


@attrs.frozen(kw_only=True)
class LiquidityConfig:
    """How the provider quotes. Sizes are counts (1/100 contract), whole contracts."""

    levels: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    min_size: Count = attrs.field(default=5 * CONTRACT, validator=attrs.validators.ge(CONTRACT))
    max_size: Count = attrs.field(default=25 * CONTRACT)
    initial_half_spread_ticks: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    max_half_spread_ticks: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    spread_smoothing: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    tape_funding: Money = attrs.field(default=100_000 * DOLLAR, validator=attrs.validators.ge(0))

    @max_size.validator
    def _check_max_size(self, _: attrs.Attribute[Count], value: Count) -> None:
        if value < self.min_size:
            raise ValueError(f"max_size {value} is below min_size {self.min_size}")


@attrs.define
class ProviderStats:
    """What the provider did; ``short_prints`` are prints the tape could not fill in full."""

    quotes: int = 0
    prints: int = 0
    printed_count: Count = 0
    short_prints: int = 0
    skipped_prints: int = 0
    blocked_prints: int = 0  # a member's order stood where the print's maker side would rest
    blocked_count: Count = 0
    rejected_orders: int = 0
    tape_deposits: Money = 0


class _Level:
    __slots__ = ("order_id", "size")

    def __init__(self, order_id: str, size: Count) -> None:
        self.order_id = order_id
        self.size = size


class _MarketQuotes:
    """The provider's view of one market: its grid, touch, spread estimate and ladder."""

    __slots__ = (
        "ask",
        "bid",
        "grid",
        "half",
        "last_ask_print",
        "last_bid_print",
        "levels",
        "quoted",
        "tick",
    )

    def __init__(self, grid: tuple[Price, ...], half_ticks: int) -> None:
        self.grid = grid
        self.tick: Price = min((b - a for a, b in itertools.pairwise(grid)), default=CENT)
        self.half: Price = half_ticks * self.tick
        self.bid: Price | None = None
        self.ask: Price | None = None
        self.last_bid_print: Price | None = None
        self.last_ask_print: Price | None = None
        self.quoted = False  # once a market has recorded quotes, prints do not move the touch
        self.levels: dict[_Key, _Level] = {}

    def floor(self, price: Price) -> Price | None:
        """The highest grid price at or below ``price``."""
        index = bisect.bisect_right(self.grid, price)
        return self.grid[index - 1] if index else None

    def ceiling(self, price: Price) -> Price | None:
        """The lowest grid price at or above ``price``."""
        index = bisect.bisect_left(self.grid, price)
        return self.grid[index] if index < len(self.grid) else None

    def set_touch(self, bid: Price | None, ask: Price | None) -> None:
        self.ask = None if ask is None else self.ceiling(ask)
        self.bid = None if bid is None else self.floor(bid)
        if self.bid is not None and self.ask is not None and self.bid >= self.ask:
            self.bid = self.floor(self.ask - 1)

    def crosses(self, key: _Key) -> bool:
        """Whether a resting order at ``key`` is at or through the opposite touch."""
        side, price = key
        if side is BookSide.BID:
            return self.ask is not None and price >= self.ask
        return self.bid is not None and price <= self.bid

    def ladder(self, levels: int) -> list[_Key]:
        """The (side, price) of every level wanted around the touch, on the grid."""
        wanted: list[_Key] = []
        if self.bid is not None:
            top = bisect.bisect_right(self.grid, self.bid)
            wanted += [(BookSide.BID, p) for p in self.grid[max(0, top - levels) : top]]
        if self.ask is not None:
            low = bisect.bisect_left(self.grid, self.ask)
            wanted += [(BookSide.ASK, p) for p in self.grid[low : low + levels]]
        return wanted


def book_sizes(quote: BookQuote) -> dict[_Key, Count]:
    """Every recorded level in YES-book terms: YES bids, and NO bids as YES asks."""
    sizes = {(BookSide.BID, level.price): level.count for level in quote.yes}
    sizes.update({(BookSide.ASK, DOLLAR - level.price): level.count for level in quote.no})
    return sizes


class LiquidityProvider:
    """Quotes and prints recorded history into a venue. Deterministic for a given seed.

    As a fill model it is ``synthetic_book``: the paper exchange's market maker, which puts
    every print on the venue's tape through the matching engine (see :meth:`describe`).
    """

    name = "synthetic_book"
    #: Provider levels are post-only: a level that would cross a member's order is not
    #: placed, so no quote ever takes a member's order (only the tape's prints do).
    post_only = True

    def __init__(
        self,
        venue: Venue,
        *,
        account: str = "liquidity-provider",
        tape_account: str = "tape",
        seed: int = 0,
        config: LiquidityConfig | None = None,
    ) -> None:
        if account == tape_account:
            raise ValueError(f"provider and tape need two accounts, both are {account!r}")
        self.venue = venue
        self.account = account
        self.tape_account = tape_account
        self.config = config or LiquidityConfig()
        self.stats = ProviderStats()
        self._rng = random.Random(seed)
        self._markets: dict[str, _MarketQuotes] = {}
        self._full_books: set[str] = set()  # markets shown level by level from recorded books

    def describe(self) -> dict[str, str]:
        return {
            "model": self.name,
            "book": f"a ladder of {self.config.levels} levels a side around the recorded or "
            "inferred touch, sizes drawn with the run's seed; levels a member takes are "
            "topped up at the next event",
            "resting": "each print rests its maker side at the print price and an internal "
            "tape account takes it through the matching engine: a member's order at a better "
            "price fills first, one at the print price only after the provider's level there",
            "taking": "a member's order walks the provider's ladder at its levels' prices",
            "conservative": "no: a print can fill a member ahead of volume recorded there; "
            "a print whose maker side a member's order would cross is left off the tape",
        }

    def register(self, market: Market) -> None:
        """Start tracking a listed market (its price grid comes from its price ranges)."""
        grid = tuple(sorted(rules.price_grid(market.price_ranges)))
        self._markets[market.ticker] = _MarketQuotes(grid, self.config.initial_half_spread_ticks)

    def forget(self, ticker: str) -> None:
        """Stop quoting ``ticker`` (it closed: the venue has canceled its resting orders)."""
        self._markets.pop(ticker, None)
        self._full_books.discard(ticker)

    def on_quote(self, quote: Quote) -> None:
        """Re-quote around a recorded top of book (a $0 bid / $1 ask means that side is empty)."""
        state = self._markets.get(quote.ticker)
        if state is None:
            return
        if isinstance(quote, BookQuote):
            self._show_book(quote, state)
            return
        self.stats.quotes += 1
        state.quoted = True
        bid = quote.yes_bid if quote.yes_bid > 0 else None
        ask = quote.yes_ask if quote.yes_ask < DOLLAR else None
        state.set_touch(bid, ask)
        self._cancel_stale(quote.ticker, state)
        self._fill_levels(quote.ticker, state)

    def on_trade(self, trade: Trade) -> None:
        """Move the inferred touch to a recorded print, then put the print on the tape."""
        state = self._markets.get(trade.ticker)
        if state is None:
            return
        if trade.ticker in self._full_books:
            # The recorded book already holds what the print left: it goes on the tape only.
            self.venue.record_print(trade)
            self.stats.prints += 1
            self.stats.printed_count += trade.count
            return
        if not state.quoted:
            self._infer_touch(state, trade)
            self._cancel_stale(trade.ticker, state)
        self._print(trade, state)
        self._fill_levels(trade.ticker, state)

    # ---- recorded full books (kalshi-core record) ------------------------------------------

    def _show_book(self, quote: BookQuote, state: _MarketQuotes) -> None:
        """Rest exactly the recorded levels: what is not recorded is canceled, every recorded
        level is amended or placed to its recorded size (no synthetic ladder)."""
        ticker = quote.ticker
        self.stats.quotes += 1
        self._full_books.add(ticker)
        state.quoted = True
        state.set_touch(quote.yes_bid or None, quote.yes_ask if quote.yes_ask < DOLLAR else None)
        wanted = book_sizes(quote)
        for key in [k for k in state.levels if k not in wanted]:
            self._cancel_if_resting(state.levels.pop(key).order_id)
        smaller_first = sorted(wanted.items(), key=lambda item: self._growth(state, *item))
        for key, size in smaller_first:
            self._rest_exactly(ticker, state, key, size)

    def _growth(self, state: _MarketQuotes, key: _Key, size: Count) -> Count:
        level = state.levels.get(key)
        if level is None:
            return size
        return size - self.venue.order_state(level.order_id).remaining

    def _rest_exactly(self, ticker: str, state: _MarketQuotes, key: _Key, size: Count) -> None:
        level = state.levels.get(key)
        if level is not None:
            order = self.venue.order_state(level.order_id)
            if order.in_book and order.remaining == size:
                return
            if order.in_book:
                try:
                    self.venue.amend(self.account, level.order_id, count=order.fill_count + size)
                    level.size = size
                    return
                except ExchangeError:
                    self.stats.rejected_orders += 1
                    self._cancel_if_resting(level.order_id)
        request = VenueOrder(
            account=self.account,
            ticker=ticker,
            side=key[0],
            price=key[1],
            count=size,
            post_only=True,
        )
        try:
            state.levels[key] = _Level(self.venue.place_order(request).order_id, size)
        except ExchangeError:  # a member's order stands through the recorded level
            self.stats.rejected_orders += 1
            state.levels.pop(key, None)

    # ---- touch inference -------------------------------------------------------------------

    def _infer_touch(self, state: _MarketQuotes, trade: Trade) -> None:
        price = trade.yes_price
        if trade.taker_book_side is BookSide.BID:  # a YES taker lifted the ask
            if state.last_bid_print is not None and state.last_bid_print < price:
                self._learn_spread(state, price - state.last_bid_print)
            state.last_ask_print = price
            room = price > state.grid[0]
            state.set_touch(max(price - 2 * state.half, state.grid[0]) if room else None, price)
        else:
            if state.last_ask_print is not None and state.last_ask_print > price:
                self._learn_spread(state, state.last_ask_print - price)
            state.last_bid_print = price
            room = price < state.grid[-1]
            state.set_touch(price, min(price + 2 * state.half, state.grid[-1]) if room else None)

    def _learn_spread(self, state: _MarketQuotes, spread: Price) -> None:
        """Smooth the half-spread toward half of an observed bid-to-ask distance."""
        sample = spread // 2
        half = state.half + (sample - state.half) // self.config.spread_smoothing
        state.half = min(max(half, state.tick), self.config.max_half_spread_ticks * state.tick)

    # ---- the ladder ------------------------------------------------------------------------

    def _cancel_stale(self, ticker: str, state: _MarketQuotes) -> None:
        """Move levels no longer wanted to wanted prices of their side, cancel the rest.

        Stale levels at or through the new opposite touch go first, so that nothing the
        provider moves or places afterwards can meet its own orders.
        """
        wanted = state.ladder(self.config.levels)
        wanted_keys = set(wanted)
        stale = [k for k in state.levels if k not in wanted_keys]
        for key in stale:
            if state.crosses(key):
                self._cancel_if_resting(state.levels.pop(key).order_id)
        missing = [k for k in wanted if k not in state.levels]
        for key in [k for k in stale if k in state.levels]:
            level = state.levels.pop(key)
            target = next((m for m in missing if m[0] is key[0]), None)
            if target is not None and self._reprice(level, target[1]):
                missing.remove(target)
                state.levels[target] = level
            else:
                self._cancel_if_resting(level.order_id)

    def _reprice(self, level: _Level, price: Price) -> bool:
        """Amend a resting level to ``price`` at its full size (one call, not cancel + place)."""
        order = self.venue.order_state(level.order_id)
        if not order.in_book:
            return False
        try:
            self.venue.amend(
                self.account, level.order_id, price=price, count=order.fill_count + level.size
            )
        except ExchangeError:
            self.stats.rejected_orders += 1
            return False
        return order.in_book

    def _fill_levels(self, ticker: str, state: _MarketQuotes) -> None:
        """Place missing levels and top up those that traded, back to their size."""
        if ticker in self._full_books:  # a recorded book is shown as recorded, no ladder
            return
        for key in state.ladder(self.config.levels):
            level = state.levels.get(key)
            if level is None:
                self._new_level(ticker, state, key, self._draw_size())
            else:
                self._restore(ticker, state, key, level)

    def _restore(self, ticker: str, state: _MarketQuotes, key: _Key, level: _Level) -> None:
        order = self.venue.order_state(level.order_id)
        if order.in_book and order.remaining == level.size:
            return
        if order.in_book:
            try:
                self.venue.amend(self.account, level.order_id, count=order.fill_count + level.size)
                return
            except ExchangeError:
                self.stats.rejected_orders += 1
                self._cancel_if_resting(level.order_id)
        self._new_level(ticker, state, key, level.size)

    def _new_level(self, ticker: str, state: _MarketQuotes, key: _Key, size: Count) -> None:
        order_id = self._place(ticker, key[0], key[1], size)
        if order_id is None:
            state.levels.pop(key, None)
        else:
            state.levels[key] = _Level(order_id, size)

    def _draw_size(self) -> Count:
        low, high = self.config.min_size // CONTRACT, self.config.max_size // CONTRACT
        return self._rng.randint(low, high) * CONTRACT

    # ---- the tape --------------------------------------------------------------------------

    def _print(self, trade: Trade, state: _MarketQuotes) -> None:
        """Rest the print's maker side at its price, then let the tape take it in full."""
        price, count = trade.yes_price, trade.count
        if price not in state.grid or count <= 0:
            self.stats.skipped_prints += 1
            return
        taker_side = trade.taker_book_side
        maker_side = BookSide.ASK if taker_side is BookSide.BID else BookSide.BID
        key = (maker_side, price)
        self._clear_way(state, maker_side, price)
        if self.venue.crosses(trade.ticker, maker_side, price):
            # A member bids (offers) at or through the print on the taker's side: resting the
            # maker side would trade with the member, not print history. Left off the tape.
            self.stats.blocked_prints += 1
            self.stats.blocked_count += count
            return
        extra: list[str] = []
        if not self._grow_level(trade.ticker, state, key, count):
            self._add_extra(trade.ticker, key, count, extra)
        # A member's orders through the price can take part of it first: top it up.
        for _ in range(3):
            missing = count - self._resting_at(state, key, extra)
            if missing <= 0 or not self._add_extra(trade.ticker, key, missing, extra):
                break
        filled = self._take(trade.ticker, taker_side, price, count)
        for order_id in extra:
            self._cancel_if_resting(order_id)
        self.stats.prints += 1
        self.stats.printed_count += filled
        if filled < count:
            self.stats.short_prints += 1

    def _clear_way(self, state: _MarketQuotes, maker_side: BookSide, price: Price) -> None:
        """Cancel own levels the print's maker order would cross (a print off the quote)."""
        for side, level_price in list(state.levels):
            in_way = level_price <= price if maker_side is BookSide.BID else level_price >= price
            if side is not maker_side and in_way:
                self._cancel_if_resting(state.levels.pop((side, level_price)).order_id)

    def _add_extra(self, ticker: str, key: _Key, count: Count, extra: list[str]) -> bool:
        order_id = self._place(ticker, key[0], key[1], count)
        if order_id is not None:
            extra.append(order_id)
        return order_id is not None

    def _resting_at(self, state: _MarketQuotes, key: _Key, extra: list[str]) -> Count:
        """What the provider rests at ``key``: its ladder level and any extra orders."""
        level = state.levels.get(key)
        ids = [*extra, level.order_id] if level is not None else extra
        resting = (self.venue.order_state(order_id) for order_id in ids)
        return sum(order.remaining for order in resting if order.in_book)

    def _grow_level(self, ticker: str, state: _MarketQuotes, key: _Key, count: Count) -> bool:
        """Add ``count`` to the ladder's level at ``key`` (placing it if wanted but missing).

        The tape then takes the addition and the level is left at its own size: one order
        instead of a separate maker order plus a re-placed level. False if not possible.
        """
        level = state.levels.get(key)
        if level is None:
            if key not in state.ladder(self.config.levels):
                return False
            size = self._draw_size()
            order_id = self._place(ticker, key[0], key[1], size + count, halve=False)
            if order_id is not None:
                state.levels[key] = _Level(order_id, size)
            return order_id is not None
        order = self.venue.order_state(level.order_id)
        if not order.in_book:
            del state.levels[key]
            return self._grow_level(ticker, state, key, count)
        try:
            new_total = order.fill_count + order.remaining + count
            self.venue.amend(self.account, level.order_id, count=new_total)
        except ExchangeError:
            self.stats.rejected_orders += 1
            return False
        return True

    def _take(self, ticker: str, side: BookSide, price: Price, count: Count) -> Count:
        """The tape's immediate-or-cancel order; returns how much of it filled."""
        unit = price if side is BookSide.BID else DOLLAR - price
        need = cost_of(unit + _FEE_ALLOWANCE_PER_CONTRACT, count) + CENT
        request = VenueOrder(
            account=self.tape_account,
            ticker=ticker,
            side=side,
            price=price,
            count=count,
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
        for _ in range(2):
            self._fund_tape(need)
            try:
                return self.venue.place_order(request).fill_count
            except ExchangeError as error:
                if error.code != rules.INSUFFICIENT_BALANCE:
                    return 0
                need *= 2  # a fee model dearer than Kalshi's: fund more and try once more
        return 0

    def _fund_tape(self, need: Money) -> None:
        available = self.venue.account(self.tape_account).available
        if available < need:
            amount = max(need - available, self.config.tape_funding)
            self.venue.deposit(self.tape_account, amount)
            self.stats.tape_deposits += amount

    # ---- orders ----------------------------------------------------------------------------

    def _place(
        self, ticker: str, side: BookSide, price: Price, count: Count, *, halve: bool = True
    ) -> str | None:
        """A GTC order of the provider, halved until affordable; None if nothing could rest."""
        while count >= CONTRACT:
            request = VenueOrder(
                account=self.account,
                ticker=ticker,
                side=side,
                price=price,
                count=count,
                post_only=self.post_only,
            )
            try:
                return self.venue.place_order(request).order_id
            except ExchangeError as error:
                self.stats.rejected_orders += 1
                if not halve or error.code != rules.INSUFFICIENT_BALANCE:
                    return None
            count = count // CONTRACT // 2 * CONTRACT
        return None

    def _cancel_if_resting(self, order_id: str) -> None:
        if self.venue.order_state(order_id).in_book:
            try:
                self.venue.cancel(self.account, order_id)
            except ExchangeError:
                self.stats.rejected_orders += 1
