"""Fixed-point money: parsing and formatting are exact and reject what they cannot hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.money import (
    DOLLAR,
    complement,
    format_count,
    format_dollars,
    money_to_cents,
    notional,
    parse_count,
    parse_dollars,
)


@pytest.mark.parametrize(
    ("text", "units"),
    [("0.4200", 4200), ("0.42", 4200), ("1", 10_000), ("0.0001", 1), ("-0.0100", -100)],
)
def test_parse_dollars(text: str, units: int) -> None:
    assert parse_dollars(text) == units


@pytest.mark.parametrize("bad", ["0.00001", "abc", "", "NaN", "Infinity"])
def test_parse_dollars_rejects_and_names_the_field(bad: str) -> None:
    with pytest.raises(ValueError, match="yes_bid_dollars"):
        parse_dollars(bad, "yes_bid_dollars")


def test_floats_are_refused() -> None:
    with pytest.raises(ValueError, match="decimal string"):
        parse_dollars(0.42)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_dollars_round_trip(units: int) -> None:
    assert parse_dollars(format_dollars(units)) == units


@given(st.integers(min_value=0, max_value=10**12))
def test_count_round_trip(units: int) -> None:
    assert parse_count(format_count(units)) == units


def test_formats_match_kalshi() -> None:
    assert format_dollars(4200) == "0.4200"
    assert format_count(1000) == "10.00"
    assert format_dollars(-5) == "-0.0005"


def test_money_to_cents_refuses_sub_cent_amounts() -> None:
    assert money_to_cents(4200) == 42
    with pytest.raises(ValueError, match="whole number of cents"):
        money_to_cents(4201)


@given(st.integers(1, DOLLAR - 1), st.integers(1, 10**6))
def test_notional_rounds_against_the_member(price: int, count: int) -> None:
    exact = Decimal(price * count) / 100
    assert notional(price, count, round_up=True) >= exact >= notional(price, count, round_up=False)
    assert notional(price, count, round_up=True) - notional(price, count, round_up=False) <= 1


def test_complement() -> None:
    assert complement(4200) == 5800
