"""The validator stages as pure functions: nothing a validator rejects is passed on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.engine.pipeline_steps import screen_intents, screen_market
from kalshi_core.models import Forecast, Market, OrderIntent, Verdict
from kalshi_core.protocols import PipelineContext
from tests.engine.builders import buy, context, forecast, market


class MaxPrice:
    """An intent validator that rejects prices above a limit."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit

    def validate_intent(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        if intent.price > self.limit:
            return Verdict.reject(self.name, f"price {intent.price} over {self.limit}")
        return Verdict.accept(self.name)


class RejectAllMarkets:
    name = "reject_all"

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        return Verdict.reject(self.name, "no")


class AcceptAllMarkets:
    name = "accept_all"

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        return Verdict.accept(self.name)


def test_screen_intents_keeps_passing_and_reports_rejections() -> None:
    low, high = buy(3000), buy(7000)
    result = screen_intents(
        [low, high],
        [MaxPrice("cap", 5000), AcceptAllMarkets()],
        market(),
        forecast(5000),
        context(),
    )
    assert result.passed == (low,)
    [(intent, verdict)] = result.rejected
    assert intent == high
    assert verdict.validator == "cap"
    assert "7000 over 5000" in verdict.reason


def test_screen_market_stops_at_first_rejection_and_skips_intent_only() -> None:
    verdicts = screen_market(
        market(),
        [AcceptAllMarkets(), MaxPrice("cap", 1), RejectAllMarkets(), AcceptAllMarkets()],
        context(),
    )
    assert [v.validator for v in verdicts] == ["accept_all", "reject_all"]
    assert not verdicts[-1].accepted


@given(
    prices=st.lists(st.integers(1, 9999), max_size=20),
    limits=st.lists(st.integers(0, 10_000), max_size=5),
)
def test_no_intent_passes_a_failed_validator(prices: list[int], limits: list[int]) -> None:
    validators = [MaxPrice(f"cap{i}", limit) for i, limit in enumerate(limits)]
    intents = [buy(p) for p in prices]
    result = screen_intents(intents, validators, market(), None, context())
    ctx = context()
    for intent in result.passed:
        assert all(v.validate_intent(intent, market(), None, ctx).accepted for v in validators)
    for intent, verdict in result.rejected:
        assert not verdict.accepted
        assert intent.price > min(limits)
    assert len(result.passed) + len(result.rejected) == len(intents)
