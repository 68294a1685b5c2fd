"""The prompt is pinned by snapshots (UPDATE_SNAPSHOTS=1 rewrites them) and hashed stably."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.llm_config import context_provider_from
from kalshi_core.forecasting.prompts import (
    PricePoint,
    build_prompt,
    describe_duration,
    describe_price,
)
from kalshi_core.models import Market
from kalshi_core.protocols import PipelineContext

SNAPSHOTS = Path(__file__).parent / "snapshots"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"snapshot {path} missing: run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def _rendered(market: Market, context: PipelineContext, background: str = "") -> str:
    prompt = build_prompt(market, context.now, background)
    return f"--- system ---\n{prompt.system}\n--- user ---\n{prompt.user}\n"


def test_prompt_snapshot(market: Market, context: PipelineContext) -> None:
    check_snapshot("prompt_quoted_market", _rendered(market, context))


def test_prompt_snapshot_without_quotes_and_with_background(
    market: Market, context: PipelineContext
) -> None:
    bare = attrs.evolve(
        market, yes_bid=0, yes_ask=10_000, last_price=0, rules_secondary="", volume=0
    )
    background = "Futures point 0.4% higher before the open.\n"
    check_snapshot("prompt_bare_market_with_background", _rendered(bare, context, background))


def test_prompt_snapshot_with_a_day_ago_and_earlier_quotes(
    market: Market, context: PipelineContext
) -> None:
    day_ago = attrs.evolve(
        market, previous_yes_bid=5100, previous_yes_ask=5400, previous_price=5200
    )
    earlier = (
        PricePoint(
            time=context.now - timedelta(hours=2), yes_bid=5500, yes_ask=5700, last_price=5600
        ),
        PricePoint(time=context.now - timedelta(hours=1), yes_bid=0, yes_ask=6000, last_price=0),
    )
    prompt = build_prompt(day_ago, context.now, "", earlier)
    check_snapshot("prompt_with_price_history", f"--- user ---\n{prompt.user}\n")
    assert "24 h ago: YES bid $0.5100 (51.0%), ask $0.5400 (54.0%), last $0.5200" in prompt.user
    assert "YES bid none, ask $0.6000 (60.0%), last none" in prompt.user


def test_prompt_hash_follows_the_text(market: Market, context: PipelineContext) -> None:
    first = build_prompt(market, context.now)
    assert first.sha256 == build_prompt(market, context.now).sha256
    later = build_prompt(market, context.now + timedelta(minutes=1))
    assert later.sha256 != first.sha256
    assert len(first.sha256) == 64


@pytest.mark.parametrize(
    ("price", "text"),
    [(4200, "$0.4200 (42.0%)"), (1, "$0.0001 (0.0%)"), (9950, "$0.9950 (99.5%)"), (None, "none")],
)
def test_describe_price(price: int | None, text: str) -> None:
    assert describe_price(price) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=1, hours=5, minutes=30), "1 d 5 h 30 min"),
        (timedelta(hours=2, seconds=59), "2 h 0 min"),
        (timedelta(minutes=7), "7 min"),
        (timedelta(seconds=-5), "closed"),
    ],
)
def test_describe_duration(delta: timedelta, text: str) -> None:
    assert describe_duration(delta) == text


class News:
    def __init__(self, section: Any) -> None:
        self.section = section

    async def context_for(self, market: Market) -> str:
        return f"news about {market.ticker}"


def make_news(section: Any) -> News:
    return News(section)


def make_nothing(section: Any) -> object:
    return object()


async def test_context_provider_loaded_from_settings(market: Market) -> None:
    provider = context_provider_from({"context_provider": f"{__name__}:make_news"})
    assert provider is not None
    assert await provider.context_for(market) == f"news about {market.ticker}"
    assert context_provider_from({"context_provider": ""}) is None


def test_bad_context_provider_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"forecasters\.llm\.context_provider"):
        context_provider_from({"context_provider": f"{__name__}:missing"})
    with pytest.raises(ConfigError, match="no async context_for"):
        context_provider_from({"context_provider": f"{__name__}:make_nothing"})
