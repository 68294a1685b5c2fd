"""Order-entry rules of the local exchange and its Kalshi-style error codes.

Every rejection is an :class:`kalshi_core.errors.ExchangeError` whose ``code`` is the snake_case
code Kalshi would send and whose ``status`` is the HTTP status the wrapping server should use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from kalshi_core.errors import ExchangeError
from kalshi_core.models import PriceRange, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR, Count, Price, format_count, format_dollars

INVALID_PRICE = "invalid_price"
INVALID_COUNT = "invalid_count"
INVALID_PARAMETERS = "invalid_parameters"
INVALID_EXPIRATION = "invalid_expiration_time"
MARKET_CLOSED = "market_closed"
INSUFFICIENT_BALANCE = "insufficient_balance"
ORDER_ALREADY_EXISTS = "order_already_exists"
NOT_FOUND = "not_found"
TRADING_PAUSED = "trading_is_paused"
POST_ONLY_CROSS = "post_only_cross"
FILL_OR_KILL_UNFILLED = "fill_or_kill_insufficient_resting_volume"
NO_POSITION_TO_REDUCE = "reduce_only_without_position"
ORDER_NOT_RESTING = "order_not_resting"
INVALID_TRANSITION = "invalid_market_status_transition"

_STATUS = {
    NOT_FOUND: 404,
    ORDER_ALREADY_EXISTS: 409,
    TRADING_PAUSED: 409,
    MARKET_CLOSED: 409,
    INVALID_TRANSITION: 409,
}


def reject(code: str, message: str) -> ExchangeError:
    """The error for ``code`` (to raise), with the HTTP status the server should send."""
    return ExchangeError(message, code=code, status=_STATUS.get(code, 400))


def price_grid(ranges: Iterable[PriceRange]) -> frozenset[Price]:
    """Every valid order price of a market's grid: on a step of a range, strictly in (0, $1)."""
    prices: set[Price] = set()
    for rng in ranges:
        if rng.step <= 0:
            raise ValueError(f"price range {rng} has a non-positive step")
        prices.update(range(rng.start, rng.end + 1, rng.step))
    return frozenset(p for p in prices if 0 < p < DOLLAR)


def check_price(ticker: str, price: Price, grid: frozenset[Price]) -> None:
    if price not in grid:
        raise reject(
            INVALID_PRICE,
            f"{ticker}: price {format_dollars(price)} is not on the market's price grid "
            "(strictly between 0 and 1, on a tick)",
        )


def check_count(ticker: str, count: Count, fractional: bool, what: str = "count") -> None:
    if count <= 0:
        raise reject(INVALID_COUNT, f"{ticker}: {what} {format_count(count)} must be positive")
    if not fractional and count % CONTRACT:
        raise reject(
            INVALID_COUNT,
            f"{ticker}: {what} {format_count(count)} is fractional; this market trades whole "
            "contracts only",
        )


def check_time_in_force(
    tif: TimeInForce, reduce_only: bool, expiration: datetime | None, now: datetime
) -> None:
    """Kalshi's rules: reduce_only needs IOC; only GTC may carry an expiration in the future."""
    if reduce_only and tif is not TimeInForce.IMMEDIATE_OR_CANCEL:
        raise reject(INVALID_PARAMETERS, f"reduce_only requires immediate_or_cancel, got {tif}")
    if expiration is None:
        return
    if tif is not TimeInForce.GOOD_TILL_CANCELED:
        raise reject(INVALID_PARAMETERS, f"expiration_time is only allowed on GTC, not {tif}")
    if expiration.tzinfo is None:
        raise reject(INVALID_EXPIRATION, f"expiration_time {expiration} has no timezone")
    if expiration <= now:
        raise reject(INVALID_EXPIRATION, f"expiration_time {expiration} is not after {now}")
