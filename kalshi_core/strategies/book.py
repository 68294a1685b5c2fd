"""Quotes of either outcome side, and the market's price grid, as strategies need them.

NO prices are derived from the YES quote (a YES bid at p is a NO ask at $1 - p), so both
sides always agree; an empty side reads as bid 0 / ask ``DOLLAR``.
"""

from __future__ import annotations

from kalshi_core.models import Market, Side
from kalshi_core.money import DOLLAR, Price


def side_ask(market: Market, side: Side) -> Price:
    """Best price to buy ``side`` now; ``DOLLAR`` when nobody sells."""
    if side is Side.YES:
        return market.yes_ask
    return DOLLAR - market.yes_bid if market.yes_bid > 0 else DOLLAR


def side_bid(market: Market, side: Side) -> Price:
    """Best price to sell ``side`` now; 0 when nobody buys."""
    if side is Side.YES:
        return market.yes_bid
    return DOLLAR - market.yes_ask if market.yes_ask < DOLLAR else 0


def tick_at(market: Market, price: Price) -> Price:
    """The price step of the grid interval that holds ``price`` (one cent by default)."""
    for grid in market.price_ranges:
        if grid.start <= price <= grid.end and grid.step > 0:
            return grid.step
    return min((g.step for g in market.price_ranges if g.step > 0), default=100)


def round_down(market: Market, price: Price) -> Price:
    """``price`` rounded down onto the market's grid."""
    step = tick_at(market, price)
    return price - price % step


def round_up(market: Market, price: Price) -> Price:
    """``price`` rounded up onto the market's grid."""
    step = tick_at(market, price)
    return price + (-price) % step
