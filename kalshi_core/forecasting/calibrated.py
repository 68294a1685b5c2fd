"""The ``calibrated`` forecaster: the market's own price, mapped through a calibration curve.

It needs no service. The curve (see :mod:`kalshi_core.forecasting.calibration`) is fitted on
recorded history by ``kalshi-core fit``; a curve fitted on the history bundled with kalshi-core
ships in the package and is used when no other is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from kalshi_core.forecasting.calibration import CalibrationCurve
from kalshi_core.models import Forecast, Market
from kalshi_core.money import DOLLAR, Price
from kalshi_core.protocols import PipelineContext

NAME = "calibrated"
logger = logging.getLogger(__name__)


def bundled_history_dir() -> Path:
    """The recorded history shipped inside kalshi-core (one folder per data set)."""
    return Path(str(resources.files("kalshi_core").joinpath("data/history")))


def default_curve_path() -> Path:
    """The curve fitted on the bundled history with the default options."""
    return Path(str(resources.files("kalshi_core").joinpath("data/calibration/default.json")))


def observed_price(market: Market, *, use_last_price: bool = True) -> tuple[str, Price] | None:
    """The YES mid when both sides are quoted, else the last trade price, else ``None``."""
    if market.mid is not None:
        return "mid", market.mid
    if use_last_price and 0 < market.last_price < DOLLAR:
        return "last price", market.last_price
    return None


def _percent(basis_points: int) -> str:
    return f"{basis_points / 100:.1f}%"


class CalibratedForecaster:
    """P(yes) = curve(price). Declines (``None``) when the market shows no price."""

    name = NAME

    def __init__(self, curve: CalibrationCurve, *, use_last_price: bool = True) -> None:
        self.curve = curve
        self.use_last_price = use_last_price
        self.warning: str | None = None

    def __repr__(self) -> str:
        info = self.curve.info
        return f"CalibratedForecaster(data_sets={list(info.data_sets)}, markets={info.markets})"

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        observed = observed_price(market, use_last_price=self.use_last_price)
        if observed is None:
            return None
        source, price = observed
        probability = self.curve.probability(price)
        return Forecast(
            ticker=market.ticker,
            probability=probability,
            model=NAME,
            created_time=context.now,
            confidence=round(self.curve.evidence_share(price) * DOLLAR),
            stderr=self.curve.stderr(price),
            reasoning=self._reasoning(source, price, probability),
        )

    def _reasoning(self, source: str, price: Price, probability: int) -> str:
        info = self.curve.info
        fitted_on = ", ".join(info.data_sets) or "unknown data"
        return (
            f"{source} {_percent(price)} -> {_percent(probability)} by a calibration curve "
            f"fitted on {fitted_on} ({info.date_from}..{info.date_to}, {info.markets} markets)"
        )


def curve_warning(curve: CalibrationCurve, where: str) -> str | None:
    """A warning when the curve moves prices yet ``kalshi-core fit`` did not find it better."""
    if curve.is_identity():
        return None
    label = curve.verdict() or "never evaluated"
    if label == "better":
        return None
    return (
        f"the calibrated forecaster's curve {where} moves prices but failed its own test "
        f"(fit verdict: {label}); its edges may be noise. Refit with `kalshi-core fit`"
    )


def load_curve(curve_path: str, min_samples_per_bin: int | None = None) -> CalibrationCurve:
    """The curve at ``curve_path`` ("" = the bundled default), re-smoothed when asked."""
    path = Path(curve_path).expanduser() if curve_path else default_curve_path()
    curve = CalibrationCurve.load(path)
    wanted = min_samples_per_bin
    if wanted is not None and wanted != curve.info.min_samples_per_bin:
        curve = curve.refit(min_samples_per_bin=wanted)
    return curve


def make_calibrated(section: Mapping[str, Any]) -> CalibratedForecaster:
    """Factory for the registry: reads ``forecasters.calibrated``."""
    path = str(section.get("curve_path", ""))
    curve = load_curve(path, section.get("min_samples_per_bin"))
    warning = curve_warning(curve, path or "(bundled default)")
    if warning is not None:
        logger.warning(warning)
    forecaster = CalibratedForecaster(
        curve, use_last_price=bool(section.get("use_last_price", True))
    )
    forecaster.warning = warning
    return forecaster
