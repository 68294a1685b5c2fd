"""Calibration curves: PAV, smoothing, fitting on history, the bundled default, the forecaster."""

from __future__ import annotations

import itertools
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.assessment import run_fit
from kalshi_core.forecasting.calibrated import (
    CalibratedForecaster,
    load_curve,
    make_calibrated,
)
from kalshi_core.forecasting.calibration import (
    BinStats,
    CalibrationCurve,
    FitInfo,
    pool_adjacent_violators,
)
from kalshi_core.forecasting.fitting import (
    FitOptions,
    bin_bounds,
    bin_statistics,
    load_data_set,
)
from kalshi_core.models import Market
from kalshi_core.protocols import PipelineContext

from .history import FakeMarket, write_data_set

values = st.lists(st.floats(0, 1), min_size=1, max_size=30)


@given(
    values.flatmap(
        lambda v: st.tuples(
            st.just(v), st.lists(st.floats(0.01, 100), min_size=len(v), max_size=len(v))
        )
    )
)
def test_pav_is_monotone_and_keeps_the_weighted_mean(pair: tuple[list[float], list[float]]) -> None:
    data, weights = pair
    fitted = pool_adjacent_violators(data, weights)
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(fitted))
    before = sum(v * w for v, w in zip(data, weights, strict=True))
    after = sum(v * w for v, w in zip(fitted, weights, strict=True))
    assert after == pytest.approx(before)


def test_pav_leaves_sorted_values_alone_and_pools_violators() -> None:
    assert pool_adjacent_violators([0.1, 0.2, 0.3], [1, 1, 1]) == [0.1, 0.2, 0.3]
    assert pool_adjacent_violators([0.1, 0.5, 0.3], [1, 1, 3]) == [0.1, 0.35, 0.35]


bin_evidence = st.lists(
    st.tuples(st.integers(0, 50), st.floats(0, 20), st.floats(0, 1)), min_size=20, max_size=20
)


@given(bin_evidence, st.floats(0, 10), st.integers(0, 10))
def test_any_evidence_gives_a_monotone_curve_in_range(
    evidence: list[tuple[int, float, float]], prior: float, min_markets: int
) -> None:
    bins = [
        BinStats(lower=lo, upper=min(hi, 10_000), samples=m, markets=m, weight=w, yes_weight=w * y)
        for (lo, hi), (m, w, y) in zip(bin_bounds(20), evidence, strict=True)
    ]
    curve = CalibrationCurve.from_bins(
        bins, FitInfo(prior_strength=prior, min_samples_per_bin=min_markets)
    )
    answers = [curve.probability(price) for price in range(0, 10_001, 50)]
    assert all(0 <= p <= 10_000 for p in answers)
    assert answers == sorted(answers)


def test_bins_cover_every_price_once() -> None:
    bounds = bin_bounds(7)
    assert bounds[0][0] == 0
    assert all(hi == lo for (_, hi), (lo, _) in itertools.pairwise(bounds))
    assert bounds[-1][1] > 10_000


def test_markets_count_equally_however_busy(tmp_path: Path) -> None:
    busy = [FakeMarket("BUSY-1", "no", prices=[80] * 200)]
    quiet = [FakeMarket(f"QUIET-{i}", "yes", prices=[81]) for i in range(9)]
    write_data_set(tmp_path, "s", busy + quiet)
    [stats] = [b for b in bin_statistics(load_data_set(tmp_path, "s"), 20) if b.samples]
    assert (stats.samples, stats.markets) == (209, 10)
    assert stats.yes_weight / stats.weight == pytest.approx(0.9)


def test_prices_after_close_and_one_sided_quotes_are_ignored(tmp_path: Path) -> None:
    market = FakeMarket(
        "M-1", "yes", prices=[40], quotes=[(38, 42), (0, 45), (50, 100)], after_close=[99]
    )
    write_data_set(tmp_path, "s", [market])
    [samples] = load_data_set(tmp_path, "s")
    assert sorted(samples.prices) == [4000, 4000]  # the print, and the mid of 38/42


def test_curve_learns_that_cheap_contracts_win(tmp_path: Path) -> None:
    markets = [FakeMarket(f"CHEAP-{i}", "yes", prices=[20, 21, 22]) for i in range(40)]
    write_data_set(tmp_path, "s", markets)
    report = run_fit("calibrated", tmp_path, ["s"], FitOptions(holdout_fraction=0.0))
    assert report.curve is not None
    # 40 markets at ~21c all won: far above the diagonal, pooled (PAV) with the sparse bins above
    assert report.curve.probability(2250) > 5_000
    assert report.verdict.label == "not measured"  # nothing held out: no verdict
    # bins without enough markets keep the diagonal
    assert report.curve.refit(min_samples_per_bin=41).probability(2100) == 2100


def test_unknown_data_set_names_what_exists(tmp_path: Path) -> None:
    write_data_set(tmp_path, "real", [FakeMarket("M-1", "yes", prices=[50])])
    with pytest.raises(ConfigError, match=r"'nope'.*found: real"):
        run_fit("calibrated", tmp_path, ["nope"], FitOptions())


def test_curve_file_round_trips(tmp_path: Path) -> None:
    curve = load_curve("")
    curve.save(tmp_path / "c.json")
    assert CalibrationCurve.load(tmp_path / "c.json") == curve


def test_unreadable_curve_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 99}')
    with pytest.raises(ConfigError, match=r"bad\.json"):
        make_calibrated({"curve_path": str(bad)})
    with pytest.raises(ConfigError, match=r"missing\.json"):
        make_calibrated({"curve_path": str(tmp_path / "missing.json")})


async def test_forecast_uses_mid_then_last_price_then_declines(
    market: Market, context: PipelineContext
) -> None:
    forecaster = make_calibrated({})
    curve = forecaster.curve
    by_mid = await forecaster.forecast(market, context)
    assert by_mid is not None
    assert by_mid.probability == curve.probability(5950)
    assert by_mid.model == "calibrated"
    assert by_mid.created_time == context.now
    assert by_mid.reasoning.startswith("mid 59.5% -> ")
    assert by_mid.confidence is not None
    assert 0 <= by_mid.confidence < 10_000
    assert by_mid.stderr == curve.stderr(5950)
    assert 0 < by_mid.stderr < 10_000
    no_quote = attrs.evolve(market, yes_bid=0, yes_ask=10_000)
    by_last = await forecaster.forecast(no_quote, context)
    assert by_last is not None
    assert by_last.probability == curve.probability(5900)
    assert await forecaster.forecast(attrs.evolve(no_quote, last_price=0), context) is None
    strict = CalibratedForecaster(curve, use_last_price=False)
    assert await strict.forecast(no_quote, context) is None
