"""Forecasters: a probability that a market resolves YES, in basis points (0..10,000).

Six ship with kalshi-core, registered by the built-in plugins
:mod:`kalshi_core.builtin.calibrated_forecaster`, :mod:`kalshi_core.builtin.statistical_forecasters`
and :mod:`kalshi_core.builtin.llm_forecaster`:

``calibrated`` (the default; needs no service)
    The market's mid (or last) price mapped through a calibration curve fitted on recorded
    history (:mod:`.calibration`, :mod:`.fitting`), shrunk toward the price by empirical Bayes,
    with a standard error from its bins' counts. ``forecasters.calibrated.curve_path`` selects
    the curve ("" = ``kalshi_core/data/calibration/default.json``, which follows the price:
    ``kalshi-core fit`` found no edge in the bundled history).

``platt``, ``logistic``, ``longshot``, ``ladder``
    Statistical models (:mod:`.statistical`, runtime side :mod:`.statistical_forecasters`).

``kalshi-core fit`` fits and judges any of the above but ``llm`` on held-out events
(:mod:`.assessment`, scoring and verdict in :mod:`.evaluation`).

``llm``
    Any OpenAI-compatible chat endpoint, one model or a weighted ensemble (:mod:`.llm`,
    settings in :mod:`.llm_config`). The answer must be the JSON object of :mod:`.answers`.

How a rejected call is recorded: the ``llm`` forecaster returns ``None``, keeps the
:class:`~kalshi_core.forecasting.llm.Rejection` as ``forecaster.last_rejection``, counts it in
``forecaster.rejection_counts`` by :class:`~kalshi_core.forecasting.answers.RejectionReason`,
logs it (never the API key) and sends :data:`kalshi_core.signals.forecast_rejected` with
``rejection=`` the record (ticker, model, reason, detail, prompt hash, tokens and cost — a
malformed answer still cost money). Every paid call also sends :data:`kalshi_core.signals.ai_spend`.
"""

from kalshi_core.forecasting.answers import RejectionReason
from kalshi_core.forecasting.calibrated import CalibratedForecaster
from kalshi_core.forecasting.calibration import CalibrationCurve
from kalshi_core.forecasting.llm import LLMForecaster, Rejection
from kalshi_core.forecasting.prompts import ContextProvider

__all__ = [
    "CalibratedForecaster",
    "CalibrationCurve",
    "ContextProvider",
    "LLMForecaster",
    "Rejection",
    "RejectionReason",
]
