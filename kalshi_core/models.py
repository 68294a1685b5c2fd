"""The domain model: attrs classes shared by the client, the exchange, storage and the engine.

Money and prices are ``int`` units of 1/10,000 dollar, counts ``int`` units of 1/100 contract
(see :mod:`kalshi_core.money`); times are timezone-aware UTC ``datetime`` objects.

Each field that travels on Kalshi's wire records its wire name and format in its metadata
(``dollars("yes_bid_dollars")``); :mod:`kalshi_core.wire` builds the one cattrs converter
from that metadata, so the model and the wire format cannot drift apart.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from kalshi_core.money import DOLLAR, Count, Money, Price

WIRE = "kalshi_wire"


class WireKind(enum.Enum):
    """How a field is written on the wire."""

    PLAIN = "plain"
    DOLLARS = "dollars"  # "0.4200" <-> 4200
    COUNT = "count"  # "10.00" <-> 1000
    CENTS = "cents"  # 42 <-> 4200 (the few integer-cent survivors, e.g. balance)
    TIME = "time"  # RFC3339 <-> datetime
    EPOCH_S = "epoch_s"  # Unix seconds <-> datetime
    EPOCH_MS = "epoch_ms"  # Unix milliseconds <-> datetime


def _wired(name: str | None, kind: WireKind, **kwargs: Any) -> Any:
    return attrs.field(metadata={WIRE: (name, kind)}, **kwargs)


def dollars(name: str | None = None, **kwargs: Any) -> Any:
    """A money/price field written as a dollar string on the wire."""
    return _wired(name, WireKind.DOLLARS, **kwargs)


def count_fp(name: str | None = None, **kwargs: Any) -> Any:
    """A contract-count field written as an ``_fp`` string on the wire."""
    return _wired(name, WireKind.COUNT, **kwargs)


def cents(name: str | None = None, **kwargs: Any) -> Any:
    """A money field written as integer cents on the wire."""
    return _wired(name, WireKind.CENTS, **kwargs)


def timestamp(name: str | None = None, kind: WireKind = WireKind.TIME, **kwargs: Any) -> Any:
    """A time field: RFC3339 string by default, or Unix seconds / milliseconds."""
    return _wired(name, kind, **kwargs)


def plain(name: str | None = None, **kwargs: Any) -> Any:
    """A field whose wire name differs from the attribute name but whose value does not."""
    return _wired(name, WireKind.PLAIN, **kwargs)


class StrEnum(str, enum.Enum):  # noqa: UP042 - enum.StrEnum changes __format__ on 3.11+
    """An enum whose values are the exchange's own strings."""

    def __str__(self) -> str:
        return str(self.value)


class MarketStatus(StrEnum):
    INITIALIZED = "initialized"
    INACTIVE = "inactive"
    ACTIVE = "active"
    CLOSED = "closed"
    DETERMINED = "determined"
    DISPUTED = "disputed"
    AMENDED = "amended"
    FINALIZED = "finalized"


class MarketResult(StrEnum):
    YES = "yes"
    NO = "no"
    SCALAR = "scalar"
    VOID = "void"  # the market was voided: every holder gets its cost back
    NONE = ""


class MarketType(StrEnum):
    BINARY = "binary"
    SCALAR = "scalar"


class Side(StrEnum):
    """The outcome a contract pays on."""

    YES = "yes"
    NO = "no"

    @property
    def opposite(self) -> Side:
        return Side.NO if self is Side.YES else Side.YES


class BookSide(StrEnum):
    """The side of the YES-quoted book: bid = buy YES (or sell NO), ask = sell YES (buy NO)."""

    BID = "bid"
    ASK = "ask"


class Action(StrEnum):
    BUY = "buy"
    SELL = "sell"


class TimeInForce(StrEnum):
    GOOD_TILL_CANCELED = "good_till_canceled"
    IMMEDIATE_OR_CANCEL = "immediate_or_cancel"
    FILL_OR_KILL = "fill_or_kill"


class SelfTradePrevention(StrEnum):
    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


class OrderStatus(StrEnum):
    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class FeeType(StrEnum):
    QUADRATIC = "quadratic"
    QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees"
    QUADRATIC_WITH_COMBO_MAKER_FEES = "quadratic_with_combo_maker_fees"
    FLAT = "flat"


class PriceLevelStructure(StrEnum):
    LINEAR_CENT = "linear_cent"
    TAPERED_DECI_CENT = "tapered_deci_cent"
    DECI_CENT = "deci_cent"


def to_book(side: Side, action: Action, price: Price) -> tuple[BookSide, Price]:
    """Express an outcome-side order as a YES-book order: buy NO at n == ask YES at 1 - n."""
    buys_yes = (side is Side.YES) == (action is Action.BUY)
    yes_price = price if side is Side.YES else DOLLAR - price
    return (BookSide.BID if buys_yes else BookSide.ASK), yes_price


@attrs.frozen(kw_only=True)
class PriceRange:
    """One interval of a market's price grid: prices in [start, end] on multiples of step."""

    start: Price = dollars()
    end: Price = dollars()
    step: Price = dollars()


LINEAR_CENT_GRID = (PriceRange(start=0, end=DOLLAR, step=100),)


@attrs.frozen(kw_only=True)
class Series:
    ticker: str
    title: str
    category: str
    frequency: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    fee_type: FeeType = FeeType.QUADRATIC
    fee_multiplier: float = 1.0
    contract_url: str = ""
    contract_terms_url: str = ""


@attrs.frozen(kw_only=True)
class Event:
    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str = ""
    category: str = ""
    mutually_exclusive: bool = False
    collateral_return_type: str = ""
    strike_date: datetime | None = timestamp(default=None)
    fee_multiplier_override: float | None = None


@attrs.frozen(kw_only=True)
class Market:
    """A binary (or scalar) contract and its latest quote."""

    ticker: str
    event_ticker: str
    status: MarketStatus
    open_time: datetime = timestamp()
    close_time: datetime = timestamp()
    title: str = ""
    subtitle: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    market_type: MarketType = MarketType.BINARY
    created_time: datetime | None = timestamp(default=None)
    updated_time: datetime | None = timestamp(default=None)
    expiration_time: datetime | None = timestamp(default=None)
    latest_expiration_time: datetime | None = timestamp(default=None)
    settlement_ts: datetime | None = timestamp(default=None)
    yes_bid: Price = dollars("yes_bid_dollars", default=0)
    yes_bid_size: Count = count_fp("yes_bid_size_fp", default=0)
    yes_ask: Price = dollars("yes_ask_dollars", default=DOLLAR)
    yes_ask_size: Count = count_fp("yes_ask_size_fp", default=0)
    no_bid: Price = dollars("no_bid_dollars", default=0)
    no_ask: Price = dollars("no_ask_dollars", default=DOLLAR)
    last_price: Price = dollars("last_price_dollars", default=0)
    previous_yes_bid: Price = dollars("previous_yes_bid_dollars", default=0)
    previous_yes_ask: Price = dollars("previous_yes_ask_dollars", default=0)
    previous_price: Price = dollars("previous_price_dollars", default=0)
    volume: Count = count_fp("volume_fp", default=0)
    volume_24h: Count = count_fp("volume_24h_fp", default=0)
    open_interest: Count = count_fp("open_interest_fp", default=0)
    notional_value: Money = dollars("notional_value_dollars", default=DOLLAR)
    settlement_value: Money | None = dollars("settlement_value_dollars", default=None)
    result: MarketResult = MarketResult.NONE
    can_close_early: bool = False
    strike_type: str | None = None
    floor_strike: float | None = None
    cap_strike: float | None = None
    rules_primary: str = ""
    rules_secondary: str = ""
    settlement_timer_seconds: int = 0
    expiration_value: str = ""
    price_level_structure: PriceLevelStructure = PriceLevelStructure.LINEAR_CENT
    price_ranges: tuple[PriceRange, ...] = LINEAR_CENT_GRID

    @property
    def series_ticker(self) -> str:
        """Kalshi tickers are SERIES-EVENT-MARKET; the series is the event ticker's prefix."""
        return self.event_ticker.split("-", 1)[0]

    @property
    def mid(self) -> Price | None:
        """Midpoint of the YES quote, or None when either side is empty."""
        if self.yes_bid <= 0 or self.yes_ask >= DOLLAR:
            return None
        return (self.yes_bid + self.yes_ask) // 2

    @property
    def spread(self) -> Price:
        return self.yes_ask - self.yes_bid


@attrs.frozen
class PriceLevel:
    price: Price
    count: Count


@attrs.frozen(kw_only=True)
class OrderBook:
    """Resting bids on both sides, each tuple in ascending price order (best bid is last).

    A YES ask at p is a NO bid at $1 - p, so ``yes_asks`` is derived, best (lowest) first.
    """

    ticker: str
    yes: tuple[PriceLevel, ...] = ()
    no: tuple[PriceLevel, ...] = ()

    @property
    def best_yes_bid(self) -> PriceLevel | None:
        return self.yes[-1] if self.yes else None

    @property
    def best_no_bid(self) -> PriceLevel | None:
        return self.no[-1] if self.no else None

    @property
    def yes_asks(self) -> tuple[PriceLevel, ...]:
        return tuple(PriceLevel(DOLLAR - lvl.price, lvl.count) for lvl in reversed(self.no))


@attrs.frozen(kw_only=True)
class Trade:
    """A public trade print."""

    trade_id: str
    ticker: str
    count: Count = count_fp("count_fp")
    yes_price: Price = dollars("yes_price_dollars")
    no_price: Price = dollars("no_price_dollars")
    taker_outcome_side: Side = Side.YES
    taker_book_side: BookSide = BookSide.BID
    created_time: datetime = timestamp()
    is_block_trade: bool = False


@attrs.frozen(kw_only=True)
class Order:
    """An order as the exchange reports it."""

    order_id: str
    client_order_id: str
    ticker: str
    outcome_side: Side
    book_side: BookSide
    status: OrderStatus
    yes_price: Price = dollars("yes_price_dollars")
    no_price: Price = dollars("no_price_dollars")
    initial_count: Count = count_fp("initial_count_fp")
    fill_count: Count = count_fp("fill_count_fp", default=0)
    remaining_count: Count = count_fp("remaining_count_fp", default=0)
    taker_fill_cost: Money = dollars("taker_fill_cost_dollars", default=0)
    maker_fill_cost: Money = dollars("maker_fill_cost_dollars", default=0)
    taker_fees: Money = dollars("taker_fees_dollars", default=0)
    maker_fees: Money = dollars("maker_fees_dollars", default=0)
    user_id: str = ""
    type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce | None = None
    self_trade_prevention_type: SelfTradePrevention | None = None
    post_only: bool = False
    reduce_only: bool = False
    expiration_time: datetime | None = timestamp(default=None)
    created_time: datetime | None = timestamp(default=None)
    last_update_time: datetime | None = timestamp(default=None)
    order_group_id: str | None = None


@attrs.frozen(kw_only=True)
class Fill:
    """One execution of one of our orders."""

    fill_id: str
    order_id: str
    ticker: str
    outcome_side: Side
    book_side: BookSide
    count: Count = count_fp("count_fp")
    yes_price: Price = dollars("yes_price_dollars")
    no_price: Price = dollars("no_price_dollars")
    is_taker: bool = True
    fee_cost: Money = dollars("fee_cost", default=0)
    created_time: datetime | None = timestamp(default=None)
    client_order_id: str | None = None


@attrs.frozen(kw_only=True)
class Position:
    """A netted position: ``position`` > 0 is YES contracts, < 0 is NO contracts."""

    ticker: str
    position: Count = count_fp("position_fp")
    market_exposure: Money = dollars("market_exposure_dollars", default=0)
    total_traded: Money = dollars("total_traded_dollars", default=0)
    realized_pnl: Money = dollars("realized_pnl_dollars", default=0)
    fees_paid: Money = dollars("fees_paid_dollars", default=0)
    last_updated_ts: datetime | None = timestamp(default=None)

    @property
    def side(self) -> Side | None:
        if self.position == 0:
            return None
        return Side.YES if self.position > 0 else Side.NO


@attrs.frozen(kw_only=True)
class Balance:
    """Cash available to trade and the value of open positions (integer-cent on the wire)."""

    balance: Money = cents()
    portfolio_value: Money = cents(default=0)
    updated_ts: datetime | None = timestamp(kind=WireKind.EPOCH_S, default=None)


@attrs.frozen(kw_only=True)
class Settlement:
    ticker: str
    event_ticker: str
    market_result: MarketResult
    yes_count: Count = count_fp("yes_count_fp", default=0)
    no_count: Count = count_fp("no_count_fp", default=0)
    yes_total_cost: Money = dollars("yes_total_cost_dollars", default=0)
    no_total_cost: Money = dollars("no_total_cost_dollars", default=0)
    revenue: Money = cents(default=0)
    fee_cost: Money = dollars("fee_cost", default=0)
    settled_time: datetime | None = timestamp(default=None)


# ---- engine-side types (not on Kalshi's wire; stored and logged by kalshi-core) ----


@attrs.frozen(kw_only=True)
class Forecast:
    """A forecaster's estimate that ``ticker`` resolves YES.

    ``probability`` is in basis points of certainty (0..10,000) so that it compares directly
    with prices in money units (a price of 4200 == 42%). ``stderr`` is the model's own standard
    error of that probability, in the same units (``None``: the model does not know its
    uncertainty); an edge is real only where it clears a few of them after fees and spread.
    """

    ticker: str
    probability: int
    model: str
    created_time: datetime
    confidence: int | None = None
    stderr: int | None = None
    reasoning: str = ""
    prompt_hash: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Money = 0

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.probability <= DOLLAR:
            raise ValueError(f"forecast probability {self.probability} outside 0..{DOLLAR}")
        if self.stderr is not None and not 0 <= self.stderr <= DOLLAR:
            raise ValueError(f"forecast stderr {self.stderr} outside 0..{DOLLAR}")


_ACCEPTED_NAMES = 1024  # a bound, should a plugin name its verdicts per market
_ACCEPTED: dict[str, Verdict] = {}


@attrs.frozen(kw_only=True)
class Verdict:
    """A validator's answer: accepted, or rejected with a reason that is stored."""

    validator: str
    accepted: bool
    reason: str = ""

    @classmethod
    def accept(cls, validator: str) -> Verdict:
        if cls is not Verdict:
            return cls(validator=validator, accepted=True)
        # Every validator accepts most markets every cycle: one shared (frozen) verdict per
        # name spares an object per market and validator, and the collector's work on it.
        found = _ACCEPTED.get(validator)
        if found is None:
            found = cls(validator=validator, accepted=True)
            if len(_ACCEPTED) < _ACCEPTED_NAMES:
                _ACCEPTED[validator] = found
        return found

    @classmethod
    def reject(cls, validator: str, reason: str) -> Verdict:
        return cls(validator=validator, accepted=False, reason=reason)


@attrs.frozen(kw_only=True)
class OrderIntent:
    """What a strategy wants to do, before risk sizing and execution.

    ``side`` and ``action`` are outcome terms (buy NO at ``price``); execution translates them
    into the YES-quoted book with :func:`to_book`.
    """

    ticker: str
    side: Side
    action: Action
    price: Price
    count: Count
    strategy: str
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    post_only: bool = False
    reduce_only: bool = False
    reason: str = ""
    expected_value: Money = 0


@attrs.frozen(kw_only=True)
class Decision:
    """One pass of the pipeline over one market: verdicts, forecast and resulting intents."""

    decision_id: str
    ticker: str
    created_time: datetime
    verdicts: tuple[Verdict, ...] = ()
    forecast: Forecast | None = None
    intents: tuple[OrderIntent, ...] = ()

    @property
    def accepted(self) -> bool:
        return all(v.accepted for v in self.verdicts)
