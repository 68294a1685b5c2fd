"""The llm forecaster against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest

from kalshi_core import signals
from kalshi_core.forecasting.answers import RejectionReason
from kalshi_core.forecasting.budget import worst_case_input_tokens
from kalshi_core.forecasting.llm import LLMForecaster, Rejection
from kalshi_core.forecasting.llm_config import make_llm
from kalshi_core.forecasting.prompts import build_prompt
from kalshi_core.models import Market
from kalshi_core.protocols import PipelineContext

from .conftest import RunningOpenAI

API_KEY = "sk-test-5ecret-key-never-logged"
PRICE = {"input": "2.50", "output": "10.00"}  # dollars per million tokens
RECORDED_MODELS = (
    "good",
    "good-b",
    "embedded",
    "malformed",
    "out-of-range",
    "refusal",
    "server-error",
    "slow",
    "interval-a",
    "interval-b",
    "overconfident",
)

MakeForecaster = Callable[..., LLMForecaster]


@pytest.fixture
async def make_forecaster(openai_server: RunningOpenAI) -> AsyncIterator[MakeForecaster]:
    made: list[LLMForecaster] = []

    def build(**overrides: Any) -> LLMForecaster:
        section: dict[str, Any] = {
            "base_url": openai_server.base_url,
            "api_key": API_KEY,
            "model": "good",
            "prices": {name: PRICE for name in RECORDED_MODELS},
            "timeout_seconds": 0.5,
            "max_tokens": 600,
            "daily_budget_dollars": "1.00",
        }
        section.update(overrides)
        forecaster = make_llm(section)
        made.append(forecaster)
        return forecaster

    yield build
    for forecaster in made:
        await forecaster.aclose()


@pytest.fixture
def rejections() -> Iterator[list[Rejection]]:
    seen: list[Rejection] = []

    def record(sender: object, rejection: Rejection) -> None:
        seen.append(rejection)

    signals.forecast_rejected.connect(record)
    yield seen
    signals.forecast_rejected.disconnect(record)


def cost_of(input_tokens: int, output_tokens: int) -> int:
    """2.50 $/M in, 10.00 $/M out, in 1/10,000 $ rounded up."""
    micro = input_tokens * 25_000 + output_tokens * 100_000
    return -(-micro // 1_000_000)


async def test_good_answer_becomes_forecast_with_tokens_cost_and_prompt_hash(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    forecast = await make_forecaster().forecast(market, context)
    assert forecast is not None
    assert forecast.probability == 6200
    assert forecast.confidence == 5500
    assert forecast.reasoning.startswith("The index closed at 6,951")
    assert forecast.model == "good"
    assert (forecast.input_tokens, forecast.output_tokens) == (412, 58)
    assert forecast.cost == cost_of(412, 58) == 17  # 16.1 units rounded up
    assert forecast.created_time == context.now
    prompt = build_prompt(market, context.now)
    assert forecast.prompt_hash == prompt.sha256
    [request] = openai_server.fake.requests
    assert request.body["messages"] == prompt.messages()
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["strict"] is True
    assert request.body["max_tokens"] == 600
    assert request.authorization == f"Bearer {API_KEY}"


async def test_json_embedded_in_prose_is_accepted_in_json_object_mode(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    forecaster = make_forecaster(model="embedded", response_format="json_object")
    forecast = await forecaster.forecast(market, context)
    assert forecast is not None
    assert forecast.probability == 3500
    assert openai_server.fake.requests[0].body["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    ("model", "reason", "tokens"),
    [
        ("malformed", RejectionReason.MALFORMED, (412, 600)),
        ("out-of-range", RejectionReason.OUT_OF_RANGE, (412, 31)),
        ("refusal", RejectionReason.REFUSED, (412, 12)),
    ],
)
async def test_bad_answers_are_rejected_and_recorded_with_their_cost(
    make_forecaster: MakeForecaster,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
    model: str,
    reason: RejectionReason,
    tokens: tuple[int, int],
) -> None:
    forecaster = make_forecaster(model=model)
    assert await forecaster.forecast(market, context) is None
    [rejection] = rejections
    assert forecaster.last_rejection == rejection
    assert rejection.reason is reason
    assert (rejection.input_tokens, rejection.output_tokens) == tokens
    assert rejection.cost == cost_of(*tokens)
    assert rejection.model == model
    assert rejection.ticker == market.ticker
    assert forecaster.budget.spent(context.now.date()) == cost_of(*tokens)


async def test_timeout_is_rejected_and_charged_its_worst_case(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
) -> None:
    forecaster = make_forecaster(model="slow")
    assert await forecaster.forecast(market, context) is None
    [rejection] = rejections
    assert rejection.reason is RejectionReason.TIMEOUT
    assert len(openai_server.fake.requests) == 1  # no retry: max_retries defaults to 0
    # the server may have billed the call: the budget keeps the worst case
    assert forecaster.budget.spent(context.now.date()) == rejection.cost > 0


async def test_http_500_is_rejected_and_costs_nothing(
    make_forecaster: MakeForecaster,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
) -> None:
    forecaster = make_forecaster(model="server-error")
    assert await forecaster.forecast(market, context) is None
    assert rejections[0].reason is RejectionReason.HTTP_ERROR
    assert rejections[0].detail == "HTTP 500"
    assert forecaster.budget.spent(context.now.date()) == 0


def worst_case(market: Market, context: PipelineContext, max_tokens: int = 600) -> int:
    prompt = build_prompt(market, context.now)
    size = len(prompt.system.encode()) + len(prompt.user.encode())
    return cost_of(worst_case_input_tokens(size), max_tokens)


async def test_over_budget_sends_no_request(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
) -> None:
    too_small = f"{(worst_case(market, context) - 1) / 10_000:.4f}"
    forecaster = make_forecaster(daily_budget_dollars=too_small)
    assert await forecaster.forecast(market, context) is None
    assert openai_server.fake.requests == []
    assert rejections[0].reason is RejectionReason.OVER_BUDGET


async def test_budget_counts_todays_spend_and_resets_the_next_day(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    # room for one worst case plus the first call's real cost, less one unit
    limit = worst_case(market, context) + cost_of(412, 58) - 1
    forecaster = make_forecaster(daily_budget_dollars=f"{limit / 10_000:.4f}")
    assert await forecaster.forecast(market, context) is not None
    assert await forecaster.forecast(market, context) is None
    assert forecaster.last_rejection is not None
    assert forecaster.last_rejection.reason is RejectionReason.OVER_BUDGET
    tomorrow = attrs.evolve(context, now=context.now + timedelta(days=1))
    assert await forecaster.forecast(market, tomorrow) is not None
    assert len(openai_server.fake.requests) == 2


async def test_engine_reported_spend_counts_when_larger(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    forecaster = make_forecaster(daily_budget_dollars="1.00")
    spent_elsewhere = attrs.evolve(context, ai_spend_today=10_000 - worst_case(market, context) + 1)
    assert await forecaster.forecast(market, spent_elsewhere) is None
    assert openai_server.fake.requests == []


async def test_ensemble_weighted_mean_tolerates_a_failed_member(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
) -> None:
    forecaster = make_forecaster(
        models=[
            "good",
            {
                "model": "good-b",
                "weight": 3,
                "api_key": "sk-other",
                "base_url": openai_server.base_url,
            },
            "malformed",
        ],
        min_members=2,
    )
    forecast = await forecaster.forecast(market, context)
    assert forecast is not None
    assert forecast.probability == round((6200 * 1 + 7000 * 3) / 4)
    assert forecast.confidence == round((5500 * 1 + 4000 * 3) / 4)
    assert forecast.model == "ensemble-mean[good,good-b]"
    assert (forecast.input_tokens, forecast.output_tokens) == (412 + 398, 58 + 37)
    assert forecast.cost == cost_of(412, 58) + cost_of(398, 37)
    assert "[good-b]" in forecast.reasoning
    assert [r.reason for r in rejections] == [RejectionReason.MALFORMED]
    keys = {r.body["model"]: r.authorization for r in openai_server.fake.requests}
    assert keys == {
        "good": f"Bearer {API_KEY}",
        "good-b": "Bearer sk-other",
        "malformed": f"Bearer {API_KEY}",
    }


async def test_ensemble_median_and_too_few_members(
    make_forecaster: MakeForecaster,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
) -> None:
    median = make_forecaster(models=["good", "good-b", "embedded"], combine="median")
    forecast = await median.forecast(market, context)
    assert forecast is not None
    assert forecast.probability == 6200
    strict = make_forecaster(models=["good", "refusal", "server-error"], min_members=2)
    assert await strict.forecast(market, context) is None
    assert strict.last_rejection is not None
    assert strict.last_rejection.reason is RejectionReason.TOO_FEW_MEMBERS
    assert strict.last_rejection.detail == "1 of 3 members answered"


async def test_api_key_never_logged_or_shown(
    make_forecaster: MakeForecaster,
    market: Market,
    context: PipelineContext,
    rejections: list[Rejection],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    forecaster = make_forecaster(models=["good", "server-error", "refusal"])
    await forecaster.forecast(market, context)
    shown = [caplog.text, repr(forecaster), repr(forecaster.options), *map(repr, rejections)]
    assert len(rejections) == 2
    assert all(API_KEY not in text for text in shown)


class _News:
    async def context_for(self, market: Market) -> str:
        return f"Futures on {market.event_ticker} point 0.4% higher."


async def test_context_provider_text_reaches_the_prompt(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    forecaster = make_forecaster()
    forecaster.context_provider = _News()
    await forecaster.forecast(market, context)
    user_message = openai_server.fake.requests[0].body["messages"][1]["content"]
    assert "Background:\nFutures on KXINXU-26FEB03H1600 point 0.4% higher." in user_message


async def test_ensemble_of_two_models_combined_by_inverse_variance(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    forecaster = make_forecaster(
        models=["interval-a", "interval-b"], combine="inverse_variance", min_members=2
    )
    forecast = await forecaster.forecast(market, context)
    assert forecast is not None
    # a: 0.62 in [0.55, 0.71] -> stderr 1600 / 3.2898 = 486; b: 0.70 in [0.50, 0.90] -> 1216.
    # weights 1/486^2 : 1/1216^2 = 0.8623 : 0.1377 -> P = 6310 (the plain mean would be 6600).
    # stderr: pooled 0.8623 x 486 + 0.1377 x 1216 = 586.5, spread sqrt(76009) = 275.7,
    # sqrt(586.5^2 + 275.7^2) = 648.
    assert forecast.probability == 6310
    assert forecast.stderr == 648
    assert forecast.model == "ensemble-inverse_variance[interval-a,interval-b]"
    body = openai_server.fake.requests[0].body
    schema = body["response_format"]["json_schema"]["schema"]
    assert {"low", "high"} <= set(schema["required"])


async def test_ensemble_without_intervals_takes_its_spread_as_stderr(
    make_forecaster: MakeForecaster, market: Market, context: PipelineContext
) -> None:
    forecaster = make_forecaster(models=["good", "good-b"])
    forecast = await forecaster.forecast(market, context)
    assert forecast is not None
    # 0.62 and 0.70, equal weights: mean 6600, standard deviation 400
    assert (forecast.probability, forecast.stderr) == (6600, 400)
    single = make_forecaster()
    alone = await single.forecast(market, context)
    assert alone is not None
    assert alone.stderr is None  # one model, no interval: unproven downstream


async def test_a_claimed_certainty_is_floored(
    make_forecaster: MakeForecaster, market: Market, context: PipelineContext
) -> None:
    forecast = await make_forecaster(model="overconfident").forecast(market, context)
    assert forecast is not None
    assert forecast.stderr == 200  # min_stderr_cents = 2 by default
    strict = make_forecaster(model="overconfident", min_stderr_cents=7)
    floored = await strict.forecast(market, context)
    assert floored is not None
    assert floored.stderr == 700


async def test_the_prompt_carries_rules_time_to_close_and_the_price_path(
    make_forecaster: MakeForecaster,
    openai_server: RunningOpenAI,
    market: Market,
    context: PipelineContext,
) -> None:
    forecaster = make_forecaster(history_points=2)
    later = attrs.evolve(context, now=context.now + timedelta(hours=1))
    for step, bid in enumerate((5800, 6000, 6300)):
        moved = attrs.evolve(market, yes_bid=bid, yes_ask=bid + 300)
        when = attrs.evolve(later, now=context.now + timedelta(hours=step))
        assert await forecaster.forecast(moved, when) is not None
    first, _, third = (r.body["messages"][1]["content"] for r in openai_server.fake.requests)
    assert "Earlier quotes" not in first
    assert "Rules: If the S&P 500 closes above 6,925" in third
    assert "(in 1 d 3 h 30 min)" in third
    assert "2026-02-02T15:30:00+00:00: YES bid $0.5800 (58.0%)" in third
    assert "2026-02-02T16:30:00+00:00: YES bid $0.6000 (60.0%)" in third
    assert "YES bid: $0.6300 (63.0%)" in third
