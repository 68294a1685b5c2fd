"""Runtime forecasters over the statistical models of :mod:`kalshi_core.forecasting.statistical`.

Each turns the live :class:`~kalshi_core.models.Market` into the same
:class:`~kalshi_core.forecasting.evaluation.Snapshot` that ``kalshi-core fit`` scored it on, so
what runs is what was judged. Every forecast carries the model's standard error.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.calibrated import observed_price
from kalshi_core.forecasting.evaluation import Prediction, Snapshot
from kalshi_core.forecasting.statistical import LadderPredictor, LogisticModel
from kalshi_core.models import Forecast, Market
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import PipelineContext

logger = logging.getLogger(__name__)


def market_snapshot(market: Market, context: PipelineContext) -> Snapshot | None:
    """What the models see of ``market`` now (``None`` when it shows no price)."""
    observed = observed_price(market)
    if observed is None:
        return None
    source, price = observed
    before = market.previous_price if 0 < market.previous_price < DOLLAR else price
    return Snapshot(
        ticker=market.ticker,
        event_ticker=market.event_ticker,
        series_ticker=market.series_ticker,
        category=context.category_of.get(market.series_ticker, ""),
        price=price,
        spread=market.spread if source == "mid" else None,
        seconds_to_close=max(0.0, (market.close_time - context.now).total_seconds()),
        price_change=price - before,
        volume=market.volume / CONTRACT,
        strike=market.floor_strike,
        strike_type=market.strike_type or "",
    )


def _forecast(name: str, snapshot: Snapshot, prediction: Prediction, now: datetime) -> Forecast:
    probability = max(0, min(DOLLAR, round(prediction.probability * DOLLAR)))
    stderr = max(0, min(DOLLAR, round(prediction.stderr * DOLLAR)))
    return Forecast(
        ticker=snapshot.ticker,
        probability=probability,
        model=name,
        created_time=now,
        stderr=stderr,
        reasoning=(
            f"price {snapshot.price / 100:.1f}% -> {probability / 100:.1f}% "
            f"(+/- {stderr / 100:.1f}%) by the {name} model"
        ),
    )


class ModelForecaster:
    """A fitted Platt / logistic / favourite-longshot model as a forecaster."""

    def __init__(self, name: str, model: LogisticModel) -> None:
        self.name = name
        self.model = model

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        snapshot = market_snapshot(market, context)
        if snapshot is None:
            return None
        return _forecast(self.name, snapshot, self.model.predict_one(snapshot), context.now)


class LadderForecaster:
    """Strike ladders made monotone, using the latest price seen of each sibling market.

    A sibling counts only while its price is at most ``max_age_seconds`` old (by the pipeline
    clock); events whose markets have all closed are forgotten, so memory stays bounded.
    """

    name = "ladder"

    def __init__(self, max_age_seconds: float = 300.0) -> None:
        self.max_age = timedelta(seconds=max_age_seconds)
        self.latest: dict[str, dict[str, tuple[Snapshot, datetime, datetime]]] = defaultdict(dict)
        self.predictor = LadderPredictor()

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        snapshot = market_snapshot(market, context)
        if snapshot is None:
            return None
        self._forget_closed(context.now)
        siblings = self.latest[market.event_ticker]
        siblings[market.ticker] = (snapshot, context.now, market.close_time)
        views = sorted(
            (view for view, seen, _ in siblings.values() if context.now - seen <= self.max_age),
            key=lambda view: view.ticker,
        )
        answers = dict(zip((v.ticker for v in views), self.predictor.predict(views), strict=True))
        return _forecast(self.name, snapshot, answers[market.ticker], context.now)

    def _forget_closed(self, now: datetime) -> None:
        closed = [
            event
            for event, siblings in self.latest.items()
            if all(close <= now for _, _, close in siblings.values())
        ]
        for event in closed:
            del self.latest[event]


def load_model(name: str, model_path: str) -> LogisticModel:
    """The model file a forecaster needs; a missing path says how to make one."""
    if not model_path:
        raise ConfigError(
            f"forecasters.{name}.model_path is empty: fit one with "
            f"`kalshi-core fit --model {name} --output {name}.json` and point the setting at it"
        )
    model = LogisticModel.load(Path(model_path).expanduser())
    if model.kind != name:
        raise ConfigError(f"model file {model_path} holds a {model.kind!r} model, not {name!r}")
    if model.verdict() != "better":
        logger.warning(
            "the %s model in %s failed its own test (fit verdict: %s)",
            name,
            model_path,
            model.verdict() or "never evaluated",
        )
    return model
