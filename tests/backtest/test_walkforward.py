"""Walk-forward: rolling train/test windows, the choice made on train only, every window shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.backtest.sweep import Base, Space, TrialResult
from kalshi_core.backtest.walkforward import (
    WalkForwardPlan,
    choose,
    fit_curves,
    rolling_windows,
    slice_history,
)
from kalshi_core.cli import make_cli
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import BUNDLED_HISTORY

DAY = timedelta(days=1)
START = datetime(2026, 1, 5, tzinfo=UTC)
EDGE = "strategies.directional.min_edge_cents"


def test_windows_roll_by_the_step_and_stay_inside() -> None:
    found = rolling_windows(START, START + 10 * DAY, 4 * DAY, 2 * DAY, 2 * DAY)
    assert [(w.train_start, w.train_end, w.test_end) for w in found] == [
        (START, START + 4 * DAY, START + 6 * DAY),
        (START + 2 * DAY, START + 6 * DAY, START + 8 * DAY),
        (START + 4 * DAY, START + 8 * DAY, START + 10 * DAY),
    ]
    assert found[0].as_dict()["test_from"] == (START + 4 * DAY).isoformat()


def test_no_window_that_fits_is_an_error_naming_the_span() -> None:
    with pytest.raises(ConfigError, match="no walk-forward window of 4 train"):
        rolling_windows(START, START + 5 * DAY, 4 * DAY, 2 * DAY, DAY)
    with pytest.raises(ConfigError, match="must all be positive"):
        rolling_windows(START, START + 5 * DAY, 4 * DAY, 0 * DAY, DAY)


def plan() -> WalkForwardPlan:
    return WalkForwardPlan(
        space=Space(parameters={EDGE: (3, 5)}),
        base=Base(data_dir=str(BUNDLED_HISTORY)),
        start=START,
        end=START + 6 * DAY,
        train_days=4,
        test_days=2,
        windows=2,
    )


def test_the_choice_is_the_best_median_on_train() -> None:
    window = plan().rolling()[0]
    results = [
        TrialResult(name="t1-w1-train", daily={"2026-01-05": 500, "2026-01-07": -100}),
        TrialResult(name="t2-w1-train", daily={"2026-01-05": 50, "2026-01-07": 50}),
    ]
    # t1's window nets are [500, -100] (median 200), t2's [50, 50] (median 50)
    assert choose(plan(), window, results).trial.trial_id == "t1"
    failed = [TrialResult(name=r.name, daily={}, error="boom") for r in results]
    with pytest.raises(ConfigError, match="every trial failed on walk-forward window 1"):
        choose(plan(), window, failed)


def test_a_slice_holds_the_markets_that_closed_inside_it(tmp_path: Path) -> None:
    start, end = datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC)
    slice_history(BUNDLED_HISTORY, ["kxinxu"], start, end, tmp_path)
    lines = (tmp_path / "kxinxu" / "markets.jsonl").read_text().splitlines()
    closes = {json.loads(line)["close_time"][:10] for line in lines}
    assert closes == {"2026-01-06", "2026-01-07"}
    source = (BUNDLED_HISTORY / "kxinxu" / "markets.jsonl").read_text().splitlines()
    inside = [m for m in source if json.loads(m)["close_time"][:10] in closes]
    assert lines == inside  # every market that closed inside, as recorded, and no other
    assert len(lines) > 6


def test_each_train_window_gets_its_own_curve(tmp_path: Path) -> None:
    sliced = WalkForwardPlan(
        space=Space(parameters={EDGE: (3,)}),
        base=Base(data_dir=str(BUNDLED_HISTORY), data_sets=("kxinxu",)),
        start=START,
        end=START + 8 * DAY,
        train_days=3,
        test_days=2,
        windows=2,
    )
    fitted = fit_curves(sliced, sliced.rolling(), tmp_path)
    assert sorted(fitted) == [1, 2]
    assert fitted[1]["fitted_markets"] > 0
    first = json.loads(Path(fitted[1]["path"]).read_text())
    second = json.loads(Path(fitted[2]["path"]).read_text())
    assert first != second  # fitted on different markets
    with_curve = attrs.evolve(sliced, curves={1: fitted[1]["path"]})
    overrides = with_curve.train_tasks(sliced.rolling()[0])[0].base.overrides
    assert overrides["forecasters.calibrated.curve_path"] == fitted[1]["path"]
    assert "forecasters.calibrated.curve_path" not in sliced.base.overrides


def test_a_train_window_with_nothing_settled_cannot_be_fitted(tmp_path: Path) -> None:
    empty = WalkForwardPlan(
        space=Space(parameters={EDGE: (3,)}),
        base=Base(data_dir=str(BUNDLED_HISTORY), data_sets=("kxinxu",)),
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 3, 5, tzinfo=UTC),
        train_days=2,
        test_days=2,
    )
    with pytest.raises(ConfigError, match="walk-forward window 1: fit: no settled market"):
        fit_curves(empty, empty.rolling(), tmp_path)


@pytest.mark.slow
def test_the_command_reports_every_window_and_the_aggregate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        make_cli(App.create()),
        [
            "walk-forward",
            "--data-set",
            "kxinxu",
            "--from",
            "2026-01-05T14:00",
            "--to",
            "2026-01-08T14:00",
            "--train-days",
            "1",
            "--test-days",
            "1",
            "--set",
            "run.cycle_seconds=14400",
            "--param",
            f"{EDGE}=3,12",
            "--output",
            str(tmp_path),
            "--fit",
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "walk-forward.json").read_text())
    assert [w["window"] for w in written["windows"]] == [1, 2]
    assert written["windows"][1]["test_from"] == "2026-01-07T14:00:00+00:00"
    aggregate = written["aggregate"]
    assert aggregate["test_net"] == sum(w["test_net"] for w in written["windows"])
    assert aggregate["mean_daily_net"]["low"] <= aggregate["mean_daily_net"]["high"]
    assert written["windows"][0]["fit"]["curve"] == "w1-curve.json"
    assert (tmp_path / "curves" / "w2-curve.json").is_file()
