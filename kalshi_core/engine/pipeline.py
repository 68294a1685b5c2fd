"""One market through the pipeline: validators -> forecast -> strategies -> intent validators.

Pure apart from the forecasters' awaits; the same object runs in backtest, paper and live.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

import attrs

from kalshi_core import signals
from kalshi_core.engine.pipeline_steps import (
    run_candidate_stage,
    run_intent_stage,
    split_stages,
)
from kalshi_core.models import Decision, Forecast, Market, OrderBook, OrderIntent, Verdict
from kalshi_core.protocols import (
    Forecaster,
    IntentValidator,
    PipelineContext,
    Strategy,
    Validator,
)

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class MarketDecision:
    """A decision plus what the intent stage rejected (stored with the decision)."""

    decision: Decision
    market: Market
    rejected_intents: tuple[tuple[OrderIntent, Verdict], ...] = ()
    # read several times per market a cycle: worked out once (the verdicts never change)
    screened_out: bool = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "screened_out", not self.decision.accepted)


BookLoader = Callable[[str], Awaitable[OrderBook]]


def wants_orderbook(plugins: Iterable[object]) -> bool:
    """Does any of ``plugins`` declare ``wants_orderbook = True``?"""
    return any(getattr(plugin, "wants_orderbook", False) for plugin in plugins)


@attrs.frozen(kw_only=True)
class Pipeline:
    """The plugins one engine runs, in settings order.

    A plugin that sets ``wants_orderbook = True`` finds the market's order book in
    ``context.orderbook``: it is read (one call per market that reaches that plugin) through
    ``book_loader``, which the engine sets to its venue's; nobody else pays for it."""

    validators: Sequence[object] = ()
    forecasters: Sequence[Forecaster] = ()
    strategies: Sequence[Strategy] = ()
    book_loader: BookLoader | None = None
    # each stage's validators, sorted once (protocol isinstance checks are slow per market)
    candidate_stage: tuple[Validator, ...] = attrs.field(init=False)
    intent_stage: tuple[IntentValidator, ...] = attrs.field(init=False)
    _books_first: bool = attrs.field(init=False)  # a candidate validator wants the book
    _books_later: bool = attrs.field(init=False)  # a forecaster, strategy or intent check does

    def __attrs_post_init__(self) -> None:
        candidate, intent = split_stages(self.validators)
        object.__setattr__(self, "candidate_stage", candidate)
        object.__setattr__(self, "intent_stage", intent)
        later = wants_orderbook([*self.forecasters, *self.strategies, *intent])
        object.__setattr__(self, "_books_first", wants_orderbook(candidate))
        object.__setattr__(self, "_books_later", later)

    async def _with_book(self, market: Market, context: PipelineContext) -> PipelineContext:
        if self.book_loader is None or context.orderbook is not None:
            return context
        return attrs.evolve(context, orderbook=await self.book_loader(market.ticker))

    @property
    def screens_at_once(self) -> bool:
        """The candidate stage awaits nothing (no candidate validator reads a book): a caller
        may :meth:`screen` every market first and :meth:`analyse` only the candidates."""
        return not self._books_first or self.book_loader is None

    async def decide(
        self, market: Market, context: PipelineContext, decision_id: str
    ) -> MarketDecision:
        """One market's decision: :meth:`screen`, then :meth:`analyse` a candidate. A plugin
        that raises costs this market its turn (the error is logged and stored as the
        decision's reason), never the cycle."""
        try:
            if self._books_first:
                context = await self._with_book(market, context)
        except Exception as error:
            return self._failed(decision_id, market, context, error)
        verdicts, screened = self.screen(market, context, decision_id)
        if screened is not None:
            return screened
        return await self.analyse(market, context, decision_id, verdicts)

    def screen(
        self, market: Market, context: PipelineContext, decision_id: str
    ) -> tuple[tuple[Verdict, ...], MarketDecision | None]:
        """The candidate stage: its verdicts, and the market's decision when the stage screens
        it out (or a validator raises); ``None`` for a candidate, which :meth:`analyse` takes
        on. ``context`` holds the book if a candidate validator wants one (see :meth:`decide`)."""
        try:
            return self._screen(market, context, decision_id)
        except Exception as error:
            return (), self._failed(decision_id, market, context, error)

    def _screen(
        self, market: Market, context: PipelineContext, decision_id: str
    ) -> tuple[tuple[Verdict, ...], MarketDecision | None]:
        verdicts = tuple(run_candidate_stage(market, self.candidate_stage, context))
        if not all(v.accepted for v in verdicts):
            signals.decision_rejected.send(market, verdicts=verdicts)
            return verdicts, self._decision(decision_id, market, context, verdicts)
        return verdicts, None

    async def analyse(
        self,
        market: Market,
        context: PipelineContext,
        decision_id: str,
        verdicts: tuple[Verdict, ...],
    ) -> MarketDecision:
        """A candidate's decision, after the candidate stage accepted it with ``verdicts``:
        forecast, strategies and the intent stage."""
        try:
            return await self._analyse(market, context, decision_id, verdicts)
        except Exception as error:
            return self._failed(decision_id, market, context, error)

    def _failed(
        self, decision_id: str, market: Market, context: PipelineContext, error: Exception
    ) -> MarketDecision:
        log.exception("pipeline failed on %s", market.ticker, exc_info=error)
        reason = f"a plugin failed: {type(error).__name__}: {error}"
        verdict = Verdict.reject("pipeline", reason)
        return self._decision(decision_id, market, context, (verdict,))

    async def _analyse(
        self,
        market: Market,
        context: PipelineContext,
        decision_id: str,
        verdicts: tuple[Verdict, ...],
    ) -> MarketDecision:
        if self._books_later:
            context = await self._with_book(market, context)
        forecast = await self.forecast(market, context)
        proposed = self.propose(market, forecast, context)
        screened = run_intent_stage(proposed, self.intent_stage, market, forecast, context)
        return self._decision(
            decision_id,
            market,
            context,
            verdicts,
            forecast=forecast,
            intents=screened.passed,
            rejected=screened.rejected,
        )

    @staticmethod
    def _decision(
        decision_id: str,
        market: Market,
        context: PipelineContext,
        verdicts: tuple[Verdict, ...],
        *,
        forecast: Forecast | None = None,
        intents: tuple[OrderIntent, ...] = (),
        rejected: tuple[tuple[OrderIntent, Verdict], ...] = (),
    ) -> MarketDecision:
        decision = Decision(
            decision_id=decision_id,
            ticker=market.ticker,
            created_time=context.now,
            verdicts=verdicts + tuple(verdict for _, verdict in rejected),
            forecast=forecast,
            intents=intents,
        )
        signals.decision_made.send(decision)
        return MarketDecision(decision=decision, market=market, rejected_intents=rejected)

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        """The first forecaster (in ``forecast.models`` order) that gives an answer."""
        for forecaster in self.forecasters:
            try:
                forecast = await forecaster.forecast(market, context)
            except Exception:  # the next forecaster may still answer
                log.exception("forecaster %s failed on %s", forecaster.name, market.ticker)
                continue
            if forecast is not None:
                signals.forecast_made.send(forecast)
                return forecast
        return None

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> list[OrderIntent]:
        intents: list[OrderIntent] = []
        for strategy in self.strategies:
            try:
                intents.extend(strategy.propose(market, forecast, context))
            except Exception:  # the other strategies still get their turn
                log.exception("strategy %s failed on %s", strategy.name, market.ticker)
        return intents
