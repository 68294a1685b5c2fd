"""Costs in integer money, rounded up; the daily budget with reservations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.budget import DailyBudget, ModelPrice, dollars_setting
from kalshi_core.forecasting.llm_config import model_price

DAY = date(2026, 2, 2)


@pytest.mark.parametrize(
    ("value", "money"), [("0.15", 1_500), (0.15, 1_500), (2, 20_000), ("0.0750", 750), (0, 0)]
)
def test_dollar_settings_convert_exactly(value: object, money: int) -> None:
    assert dollars_setting(value, "x") == money


@pytest.mark.parametrize("value", ["0.00001", "-1", "abc", True, None, [1]])
def test_bad_dollar_settings_name_the_key(value: object) -> None:
    with pytest.raises(ConfigError, match=r"prices\.m\.input"):
        dollars_setting(value, "prices.m.input")


def test_missing_model_price_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no price for model 'other'"):
        model_price({"gpt-x": {"input": "1", "output": "2"}}, "other")
    assert model_price({"GPT-X": {"input": "1", "output": "2"}}, "gpt-x").output_per_million == (
        20_000
    )


@given(
    st.integers(0, 10_000_000),
    st.integers(0, 10_000_000),
    st.integers(0, 1_000_000),
    st.integers(0, 1_000_000),
)
def test_cost_is_the_exact_cost_rounded_up(
    input_tokens: int, output_tokens: int, input_price: int, output_price: int
) -> None:
    price = ModelPrice(input_per_million=input_price, output_per_million=output_price)
    exact = (Decimal(input_tokens) * input_price + Decimal(output_tokens) * output_price) / 10**6
    cost = price.cost(input_tokens, output_tokens)
    assert exact <= cost < exact + 1


def test_budget_reserves_settles_and_refuses() -> None:
    budget = DailyBudget(limit=100)
    assert budget.reserve(DAY, 60)
    assert not budget.reserve(DAY, 41)
    budget.settle(DAY, 60, 10)
    assert budget.spent(DAY) == 10
    assert budget.reserve(DAY, 90)
    assert not budget.reserve(DAY, 1)
    assert budget.reserve(date(2026, 2, 3), 100)


def test_budget_uses_the_engines_spend_when_larger() -> None:
    budget = DailyBudget(limit=100)
    assert not budget.reserve(DAY, 10, known_elsewhere=95)
    assert budget.reserve(DAY, 10, known_elsewhere=90)
