"""Integer fixed-point money, prices and contract counts.

Kalshi quotes prices and money as dollar strings with up to four decimals on its sub-penny
grid ("0.4213") and contract counts with two decimals ("10.00"). Floats cannot hold these
exactly, so everything inside kalshi-core is an ``int``:

* ``Money`` and ``Price``: units of 1/10,000 dollar (``DOLLAR == 10_000``; one cent is 100).
* ``Count``: units of 1/100 contract (``CONTRACT == 100``).

Conversion happens only at the edges: the wire converter, reports and the CLI.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import TypeAlias

Money: TypeAlias = int
Price: TypeAlias = int
Count: TypeAlias = int

DOLLAR: Money = 10_000
CENT: Money = 100
CONTRACT: Count = 100
MONEY_PLACES = 4
COUNT_PLACES = 2


# The digits a fixed-point string has after the point, by scale (1/10,000 -> 4, 1/100 -> 2).
_PLACES = {DOLLAR: MONEY_PLACES, CONTRACT: COUNT_PLACES}


def parse_fixed_text(text: str, places: int, max_decimals: int) -> int | None:
    """``"-12.3400"`` -> integer units of ``10**-places``, without Decimal; ``None`` when
    ``text`` is not plain ``-?digits[.digits]`` with 1 to ``max_decimals`` decimals, or is
    finer than ``places`` (the caller then takes the slow, explaining path).

    Digits are what ``str.isdecimal`` accepts, as for ``Decimal`` and the regex ``\\d``.
    """
    whole, point, fraction = text.partition(".")
    digits = whole[1:] if whole[:1] == "-" else whole
    if not digits.isdecimal() or (point and not fraction.isdecimal()):
        return None
    if len(fraction) > max_decimals:
        return None
    kept, dropped = fraction[:places], fraction[places:]
    if dropped and int(dropped):
        return None
    return int(whole + kept.ljust(places, "0"))


def _parse_fixed(text: str | int | float | Decimal, scale: int, what: str) -> int:
    """Parse a decimal string into integer units of ``1/scale``; reject anything inexact."""
    if isinstance(text, bool | float):
        raise ValueError(f"{what} must be a decimal string, got {type(text).__name__} {text!r}")
    places = _PLACES.get(scale)
    if type(text) is str and places is not None:
        fast = parse_fixed_text(text, places, len(text))
        if fast is not None:
            return fast
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{what} is not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what} is not a finite number: {text!r}")
    units = value * scale
    if units != units.to_integral_value():
        raise ValueError(f"{what} {text!r} has more precision than 1/{scale}")
    return int(units)


def parse_dollars(text: str | int | Decimal, what: str = "amount") -> Money:
    """``"0.4213"`` -> ``4213``. Raises ``ValueError`` naming ``what`` on bad input."""
    return _parse_fixed(text, DOLLAR, what)


def parse_count(text: str | int | Decimal, what: str = "count") -> Count:
    """``"10.00"`` -> ``1000``. Raises ``ValueError`` naming ``what`` on bad input."""
    return _parse_fixed(text, CONTRACT, what)


def _format_fixed(units: int, scale: int, places: int) -> str:
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), scale)
    return f"{sign}{whole}.{frac:0{places}d}"


def format_dollars(amount: Money) -> str:
    """``4213`` -> ``"0.4213"`` (Kalshi's four-decimal dollar string)."""
    return _format_fixed(amount, DOLLAR, MONEY_PLACES)


def format_count(count: Count) -> str:
    """``1000`` -> ``"10.00"`` (Kalshi's ``_fp`` count string)."""
    return _format_fixed(count, CONTRACT, COUNT_PLACES)


def money_to_cents(amount: Money) -> int:
    """Money units -> whole cents, rounding toward zero is never silent: inexact raises."""
    if amount % CENT:
        raise ValueError(f"{format_dollars(amount)} is not a whole number of cents")
    return amount // CENT


def notional(price: Price, count: Count, *, round_up: bool) -> Money:
    """Value of ``count`` contracts at ``price``.

    A fractional contract at a sub-penny price can be worth less than one money unit; the
    remainder is rounded against the member (up when paying, down when receiving), the way
    Kalshi's rounding fee does.
    """
    exact = Decimal(price * count) / CONTRACT
    rounding = ROUND_CEILING if round_up else ROUND_FLOOR
    return int(exact.to_integral_value(rounding=rounding))


def complement(price: Price) -> Price:
    """The other side's price of a binary contract: a YES bid at p is a NO ask at $1 - p."""
    return DOLLAR - price
