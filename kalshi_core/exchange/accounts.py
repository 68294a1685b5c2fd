"""Member accounts: cash, buying power held for resting orders, netted positions, P&L.

Money model (every amount an ``int`` of money units):

* A YES contract and a NO contract together are always worth exactly ``DOLLAR``. Buying YES
  at ``p`` costs ``p``; buying NO at ``n`` costs ``n`` (an ask at YES price ``p`` buys NO at
  ``DOLLAR - p``).
* Positions are netted per market (``position`` > 0 is YES, < 0 is NO). Buying the side
  opposite to what you hold *closes* contracts: the pair is redeemed for ``DOLLAR`` at once,
  so buying YES at ``p`` against a NO holding pays the member ``DOLLAR - p`` per contract.
* The exchange holds ``DOLLAR`` per open YES/NO pair in escrow (see the venue's ledger).
* Amounts for fractional counts round against the member (cost up, proceeds down); the
  venue keeps the difference, so money is conserved exactly.
* ``basis`` is what the member paid for the contracts it holds; closing releases a
  proportional share and books ``proceeds - released`` as realised P&L (gross of fees, which
  are tracked separately).
"""

from __future__ import annotations

from datetime import datetime

from kalshi_core.exchange.book import OrderState
from kalshi_core.exchange.records import FillLog
from kalshi_core.models import BookSide
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price

_BID = BookSide.BID  # a global read: an Enum member read through its class is slow on 3.11


def cost_of(unit_price: Price, count: Count) -> Money:
    """What ``count`` contracts cost at ``unit_price``, rounded up."""
    return -(-unit_price * count // CONTRACT)


class Holding:
    """One account's state in one market.

    Cash for fractional counts is rounded per holding, not per fill: ``paid_units`` and
    ``received_units`` accumulate exact amounts (money x CONTRACT) and each fill moves the
    rounded-up (paid) or rounded-down (received) total on. So many small fills never cost
    more than one big one, and the reserve computed per price level always covers them.
    """

    __slots__ = (
        "_ask_cache",
        "_bid_cache",
        "ask_count",
        "ask_need",
        "asks",
        "basis",
        "bid_count",
        "bid_need",
        "bids",
        "ceiling",
        "fee_reserve",
        "fees",
        "paid_units",
        "position",
        "realized",
        "received_units",
        "required",
        "stale",
        "ticker",
        "traded",
        "updated_time",
    )

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.position: Count = 0
        self.basis: Money = 0
        self.realized: Money = 0
        self.fees: Money = 0
        self.traded: Money = 0
        self.paid_units = 0
        self.received_units = 0
        self.bids: dict[Price, Count] = {}
        self.asks: dict[Price, Count] = {}
        self.bid_need: Money = 0  # what every resting bid would cost if none of it closed
        self.ask_need: Money = 0
        self.bid_count: Count = 0
        self.ask_count: Count = 0
        self.fee_reserve: Money = 0
        self.required: Money = 0  # the requirement as the account last settled it
        self.ceiling: Money = 0  # the open need as the account last counted it
        self.stale = False  # changed since the account last settled ``required``
        self.updated_time: datetime | None = None
        # Each side's need as (closable contracts, need): valid until that side's orders change.
        self._bid_cache: tuple[Count, Money] | None = None
        self._ask_cache: tuple[Count, Money] | None = None

    def pay(self, exact_units: int) -> Money:
        """Cash owed for ``exact_units`` (money x CONTRACT) more of purchases, rounded up."""
        before = -(-self.paid_units // CONTRACT)
        self.paid_units += exact_units
        return -(-self.paid_units // CONTRACT) - before

    def receive(self, exact_units: int) -> Money:
        """Cash due for ``exact_units`` (money x CONTRACT) more of proceeds, rounded down."""
        before = self.received_units // CONTRACT
        self.received_units += exact_units
        return self.received_units // CONTRACT - before

    def buy(self, buys_yes: bool, unit_price: Price, count: Count) -> Money:
        """Buy ``count`` YES (or NO) contracts at ``unit_price``; returns the cash change."""
        sign = 1 if buys_yes else -1
        opposite = -sign * self.position
        held_opposite = opposite if opposite > 0 else 0
        closing = min(count, held_opposite)
        opening = count - closing
        cash = 0
        if closing:
            released = (
                self.basis if closing == held_opposite else self.basis * closing // held_opposite
            )
            received = self.receive((DOLLAR - unit_price) * closing)
            self.basis -= released
            self.realized += received - released
            cash += received
        if opening:
            paid = self.pay(unit_price * opening)
            self.basis += paid
            cash -= paid
        self.position += sign * count
        self.traded += -(-unit_price * count // CONTRACT)  # cost_of, inlined
        return cash

    def requirement(self) -> Money:
        """Cash that must stay free so every resting order could fill, worst case.

        Each side is costed alone, as if its own orders filled first, with any contracts
        they would close matched against the cheapest units. Bids and asks are summed: a
        conservative bound (a market maker's two sides are both held).
        """
        return self._bid_side() + self._ask_side() + self.fee_reserve

    def _bid_side(self) -> Money:
        closable = -self.position if self.position < 0 else 0
        cached = self._bid_cache
        if cached is not None and cached[0] == closable:
            return cached[1]
        need = _side_need(self.bids, closable, self.bid_need, self.bid_count, True)
        self._bid_cache = (closable, need)
        return need

    def _ask_side(self) -> Money:
        closable = self.position if self.position > 0 else 0
        cached = self._ask_cache
        if cached is not None and cached[0] == closable:
            return cached[1]
        need = _side_need(self.asks, closable, self.ask_need, self.ask_count, False)
        self._ask_cache = (closable, need)
        return need

    def track(self, side: BookSide, price: Price, count: Count) -> None:
        """Add (or with a negative count remove) resting size at ``price`` on ``side``."""
        if not count:
            return
        is_bid = side is _BID
        levels = self.bids if is_bid else self.asks
        before = levels.get(price, 0)
        total = before + count
        if total:
            levels[price] = total
        else:
            del levels[price]
        unit = price if is_bid else DOLLAR - price
        need = (-unit * before // CONTRACT) - (-unit * total // CONTRACT)  # cost_of, inlined
        if is_bid:
            self.bid_need += need
            self.bid_count += count
            self._bid_cache = None
        else:
            self.ask_need += need
            self.ask_count += count
            self._ask_cache = None


def _side_need(
    levels: dict[Price, Count], closable: Count, open_need: Money, total: Count, is_bid: bool
) -> Money:
    if not closable:
        return open_need
    if closable >= total:
        return 0
    # Worst case for cash: the contracts that close are the cheapest ones. ``open_need`` is the
    # sum of every level's cost (see Holding.track), so only the levels that close are visited.
    need = open_need
    for price in sorted(levels, reverse=not is_bid):
        if not closable:
            break
        count = levels[price]
        closing = min(count, closable)
        closable -= closing
        unit = price if is_bid else DOLLAR - price
        need += cost_of(unit, count - closing) - cost_of(unit, count)
    return need


class Account:
    """A member: cash, buying power held for resting orders, holdings per market.

    The reserve is settled lazily: a change only marks its holding stale (:meth:`refresh`),
    and reading ``reserved`` recomputes the stale holdings' requirements. ``ceiling`` is kept
    exact at every change and bounds ``reserved`` from above (orders costed as if none closed
    a position), so a cash check the ceiling passes recomputes nothing (:meth:`covers`).
    """

    __slots__ = (
        "_reserved",
        "_stale",
        "account_id",
        "cash",
        "ceiling",
        "client_ids",
        "deposits",
        "fills",
        "holdings",
        "orders",
        "resting",
    )

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.cash: Money = 0
        self.deposits: Money = 0
        self.ceiling: Money = 0
        self.holdings: dict[str, Holding] = {}
        self.fills = FillLog()
        # Every order the venue took for the account, oldest first, and the order id of each
        # client order id it used (kept here: no (account, id) key to build per order).
        self.orders: list[OrderState] = []
        self.client_ids: dict[str, str] = {}
        self.resting: dict[str, OrderState] = {}  # the orders in a book, by order id
        self._reserved: Money = 0
        self._stale: list[Holding] = []

    @property
    def reserved(self) -> Money:
        """Cash held so every resting order could fill, worst case (see Holding.requirement)."""
        if self._stale:
            self._settle()
        return self._reserved

    @property
    def available(self) -> Money:
        """Cash not held for resting orders."""
        return self.cash - self.reserved

    def covers(self) -> bool:
        """Whether cash covers the reserve (the exact reserve only if the ceiling does not)."""
        return self.cash >= self.ceiling or self.cash >= self.reserved

    def holding(self, ticker: str) -> Holding:
        held = self.holdings.get(ticker)
        if held is None:
            held = self.holdings[ticker] = Holding(ticker)
        return held

    def refresh(self, held: Holding) -> None:
        """Note that ``held``'s orders or position changed: its reserve is due again."""
        bound = held.bid_need + held.ask_need + held.fee_reserve  # requirement's upper bound
        self.ceiling += bound - held.ceiling
        held.ceiling = bound
        if not held.stale:
            held.stale = True
            self._stale.append(held)

    def _settle(self) -> None:
        for held in self._stale:
            held.stale = False
            need = held.requirement()
            self._reserved += need - held.required
            held.required = need
        self._stale.clear()

    @property
    def fees_paid(self) -> Money:
        return sum(h.fees for h in self.holdings.values())

    @property
    def realized_pnl(self) -> Money:
        return sum(h.realized for h in self.holdings.values())
