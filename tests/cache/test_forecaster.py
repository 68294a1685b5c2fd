"""Analysis de-duplication: the llm forecaster against the local OpenAI-compatible server,
behind CachingForecaster; on Redis the forecasts outlive a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from kalshi_core.cache.forecaster import CachingForecaster, model_identity
from kalshi_core.cache.wiring import cache_engine_parts
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.venue import Venue
from kalshi_core.forecasting.llm import LLMForecaster
from kalshi_core.forecasting.llm_config import make_llm
from kalshi_core.models import Market, MarketStatus
from kalshi_core.protocols import PipelineContext, Portfolio
from kalshi_core.venues.simulated import VenueGateway
from tests.cache.conftest import shared_cache
from tests.forecasting.conftest import RunningOpenAI, openai_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.redis
NOW = datetime(2026, 2, 2, 15, 30, tzinfo=UTC)
PRICE = {"input": "2.50", "output": "10.00"}


def quoted(bid: int, ask: int) -> Market:
    return Market(
        ticker="KXINXU-26FEB03H1600-T6924.9999",
        event_ticker="KXINXU-26FEB03H1600",
        status=MarketStatus.ACTIVE,
        open_time=datetime(2026, 2, 2, 14, 30, tzinfo=UTC),
        close_time=datetime(2026, 2, 3, 21, 0, tzinfo=UTC),
        title="Will the S&P 500 close above 6,925 at 4pm ET on 2026-02-03?",
        yes_bid=bid,
        yes_ask=ask,
    )


CONTEXT = PipelineContext(now=NOW, portfolio=Portfolio(cash=1000 * 10_000))


@pytest.fixture
async def llm(openai_server: RunningOpenAI) -> AsyncIterator[LLMForecaster]:  # noqa: F811
    forecaster = make_llm(
        {
            "base_url": openai_server.base_url,
            "api_key": "sk-test-never-logged",
            "model": "good",
            "prices": {"good": PRICE},
            "timeout_seconds": 5,
            "daily_budget_dollars": "1.00",
        }
    )
    yield forecaster
    await forecaster.aclose()


async def test_unchanged_market_is_never_asked_twice_even_after_a_restart(
    make_primary: Callable[[], Any],
    backend_kind: str,
    llm: LLMForecaster,
    openai_server: RunningOpenAI,  # noqa: F811
) -> None:
    first = CachingForecaster(llm, shared_cache(make_primary()), price_bucket=100, prompt="p1")
    made = await first.forecast(quoted(5800, 6100), CONTEXT)
    assert made is not None
    assert made.cost > 0
    reused = attrs.evolve(made, cost=0, input_tokens=0, output_tokens=0)
    assert await first.forecast(quoted(5800, 6100), CONTEXT) == reused
    assert await first.forecast(quoted(5810, 6110), CONTEXT) == reused  # same 1-cent bucket
    assert len(openai_server.fake.requests) == 1
    assert (first.calls, first.reused) == (1, 2)

    await first.forecast(quoted(6000, 6300), CONTEXT)  # the price moved: ask again
    assert len(openai_server.fake.requests) == 2

    restarted = CachingForecaster(llm, shared_cache(make_primary()), prompt="p1")
    await restarted.forecast(quoted(5800, 6100), CONTEXT)
    assert len(openai_server.fake.requests) == 2  # the restarted worker reused it

    new_prompt = CachingForecaster(llm, shared_cache(make_primary()), prompt="p2")
    await new_prompt.forecast(quoted(5800, 6100), CONTEXT)
    assert len(openai_server.fake.requests) == 3


async def test_declined_forecasts_and_unquoted_markets_are_not_cached(
    make_primary: Callable[[], Any],
    llm: LLMForecaster,
    openai_server: RunningOpenAI,  # noqa: F811
) -> None:
    refusing = attrs.evolve(
        llm.options, members=(attrs.evolve(llm.options.members[0], model="refusal"),)
    )
    declined = CachingForecaster(LLMForecaster(refusing), shared_cache(make_primary()))
    try:
        assert await declined.forecast(quoted(5800, 6100), CONTEXT) is None
        assert await declined.forecast(quoted(5800, 6100), CONTEXT) is None
        assert declined.calls == 2
    finally:
        await declined.aclose()
    cached = CachingForecaster(llm, shared_cache(make_primary()))
    one_sided = quoted(0, 6100)
    assert cached.key(one_sided) is None
    await cached.forecast(one_sided, CONTEXT)
    await cached.forecast(one_sided, CONTEXT)
    assert cached.calls == 2


async def test_wiring_versions_llm_forecasts_by_their_prompt(
    make_primary: Callable[[], Any], llm: LLMForecaster
) -> None:
    cache = shared_cache(make_primary())
    venue = Venue(ManualClock())
    parts = cache_engine_parts(
        cache, {"forecast_price_bucket": 50}, VenueGateway(venue, "trader"), [llm]
    )
    [wrapped] = parts.forecasters
    assert isinstance(wrapped, CachingForecaster)
    assert wrapped.price_bucket == 50
    assert len(wrapped.prompt_version) == 12
    assert model_identity(llm) == "llm[good]"
    assert parts.gateway.inner is not None


def test_a_price_bucket_below_one_is_refused(
    make_primary: Callable[[], Any], llm: LLMForecaster
) -> None:
    with pytest.raises(ValueError, match="forecast_price_bucket must be at least 1, got 0"):
        CachingForecaster(llm, shared_cache(make_primary()), price_bucket=0)
