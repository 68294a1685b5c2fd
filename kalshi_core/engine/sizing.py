"""Position sizing: binary Kelly and fitting an order into a money budget.

Buying one contract of a side at price ``p`` (a share of ``DOLLAR``) pays ``DOLLAR`` if that
side wins. With belief ``q`` that it wins, the growth-optimal stake as a share of bankroll is
``f* = (q - p) / (1 - p)`` and zero when ``q <= p``. Every result here is whole lots of
contracts and integer money; only the Kelly share itself is a :class:`~fractions.Fraction`.

Kelly trusts ``q``; a forecast that knows its standard error ``s`` gets less. The share is
multiplied by :func:`confidence_scale`, ``e / (e + s)`` with ``e = q - p`` the edge per
contract: a certain forecast (``s = 0``) bets full (fractional) Kelly, an edge of one
standard error bets half of it, an edge lost in its noise almost nothing. This follows
Gnosis' prediction-market agent tooling, which scales its Kelly bet by the forecast's
confidence; ``e / (e + s)`` is the confidence the edge itself earns.
"""

from __future__ import annotations

from fractions import Fraction

from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price, notional


def kelly_share(probability: int, cost: Price | Fraction) -> Fraction:
    """Kelly share of bankroll for buying at ``cost`` per contract with belief ``probability``.

    ``cost`` may include the fee per contract (a fraction of money units). Zero when there is
    no edge or the price leaves nothing to win.
    """
    if cost <= 0 or cost >= DOLLAR or probability <= cost:
        return Fraction(0)
    return (Fraction(probability) - cost) / (DOLLAR - Fraction(cost))


def confidence_scale(edge: Fraction | int, stderr: int | None) -> Fraction:
    """``edge / (edge + stderr)``: 1 for a certain forecast (or none given), 0 with no edge."""
    if edge <= 0:
        return Fraction(0)
    if stderr is None or stderr <= 0:
        return Fraction(1)
    return Fraction(edge) / (edge + stderr)


def whole_lots(count: Count | Fraction, lot: Count = CONTRACT) -> Count:
    """Round a count down to whole lots (whole contracts by default)."""
    return int(count // lot) * lot if count > 0 else 0


def kelly_count(
    probability: int,
    cost: Price | Fraction,
    *,
    bankroll: Money,
    kelly_fraction: Fraction,
    max_stake: Money,
    max_count: Count,
    lot: Count = CONTRACT,
    stderr: int | None = None,
) -> Count:
    """Contracts to buy: ``kelly_fraction x f* x confidence_scale`` of ``bankroll``, at most
    ``max_stake`` money and ``max_count`` contracts, in whole lots. Zero when there is no edge.
    ``stderr`` (basis points, like ``probability``) is the forecast's standard error."""
    share = kelly_share(probability, cost) * confidence_scale(probability - cost, stderr)
    if share <= 0 or bankroll <= 0 or max_stake <= 0:
        return 0
    stake = min(bankroll * share * kelly_fraction, Fraction(max_stake))
    count = whole_lots(stake * CONTRACT / Fraction(cost), lot)
    return min(count, whole_lots(max_count, lot))


def fit_count(count: Count, price: Price, room: Money, lot: Count = CONTRACT) -> Count:
    """The largest count of whole lots, at most ``count``, whose cost at ``price`` fits ``room``.

    Returns ``count`` unchanged when it already fits (even if it is not whole lots).
    """
    if room <= 0 or price < 0:
        return 0
    if notional(price, count, round_up=True) <= room:
        return count
    if price == 0:
        return count
    fitted = min(whole_lots(Fraction(room * CONTRACT, price), lot), whole_lots(count, lot))
    while fitted > 0 and notional(price, fitted, round_up=True) > room:
        fitted -= lot
    return max(fitted, 0)
