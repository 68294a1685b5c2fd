"""Settings values (floats and decimal numbers a human typed) as exact engine units.

Settings files hold ``0.05`` for 5% and ``3`` for three cents; the engine works in
:class:`~fractions.Fraction` shares and integer money, so the conversion goes through the
number's decimal text and never through binary-float arithmetic.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from kalshi_core.errors import ConfigError
from kalshi_core.money import CENT, CONTRACT, DOLLAR, Count, Money, format_count, format_dollars

Number = int | float | str | Decimal | Fraction


def share(value: Number, what: str = "share") -> Fraction:
    """``0.05`` -> ``Fraction(1, 20)``; a negative share is a configuration error."""
    result = value if isinstance(value, Fraction) else Fraction(Decimal(str(value)))
    if result < 0:
        raise ConfigError(f"{what} must not be negative, got {value}")
    return result


def _scaled(value: Number, scale: int, what: str) -> int:
    exact = share(value, what) * scale
    if exact.denominator != 1:
        raise ConfigError(f"{what} {value} is finer than 1/{DOLLAR // scale} dollar")
    return int(exact)


def cents(value: Number, what: str = "amount in cents") -> Money:
    """``3`` (cents) -> ``300`` money units; ``0.5`` -> ``50``."""
    return _scaled(value, CENT, what)


def dollars(value: Number, what: str = "amount in dollars") -> Money:
    """``5.0`` (dollars) -> ``50_000`` money units."""
    return _scaled(value, DOLLAR, what)


def contracts(value: Number, what: str = "number of contracts") -> Count:
    """``10`` (contracts) -> ``1000`` count units."""
    exact = share(value, what) * CONTRACT
    if exact.denominator != 1:
        raise ConfigError(f"{what} {value} is finer than 1/{CONTRACT} contract")
    return int(exact)


def usd(amount: Money | Fraction) -> str:
    """Money for a reason text: ``$0.4200`` (a fraction is shown rounded toward zero)."""
    whole = int(amount)
    return f"-${format_dollars(-whole)}" if whole < 0 else f"${format_dollars(whole)}"


def qty(count: Count) -> str:
    """A count for a reason text: ``10.00 contracts``."""
    return f"{format_count(count)} contracts"


def pct(value: Fraction) -> str:
    """A share for a reason text: ``5%`` / ``2.5%``."""
    return f"{float(value * 100):g}%"
