"""Parameter sweeps: the search space, ranking by the median over windows, the CLI end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.backtest.sweep import (
    Base,
    Space,
    SweepPlan,
    TrialResult,
    calendar,
    check_tasks,
    load_space,
    overfitting,
    parse_param,
    rank,
    trials,
    window_totals,
)
from kalshi_core.builtin.sweep_command import overfitting_line
from kalshi_core.cli import make_cli
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import BUNDLED_HISTORY

EDGE = "strategies.directional.min_edge_cents"
KELLY = "strategies.directional.kelly_fraction"


def test_a_param_lists_toml_values() -> None:
    assert parse_param(f"{EDGE}=3,5,8") == (EDGE, (3, 5, 8))
    assert parse_param(f"{KELLY}=[0.1, 0.5]") == (KELLY, (0.1, 0.5))
    assert parse_param("strategies.directional.aggressiveness=take,join") == (
        "strategies.directional.aggressiveness",
        ("take", "join"),
    )
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_param("no-equals-sign")


def test_a_grid_is_every_combination_in_a_stable_order() -> None:
    found = trials(Space(parameters={EDGE: (3, 5), KELLY: (0.1, 0.2, 0.3)}))
    assert [t.trial_id for t in found] == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert found[0].params == {EDGE: 3, KELLY: 0.1}
    assert found[-1].params == {EDGE: 5, KELLY: 0.3}


def test_random_search_is_seeded_and_distinct() -> None:
    space = {EDGE: tuple(range(10)), KELLY: tuple(range(10))}
    first = trials(Space(parameters=space, mode="random", samples=12, seed=4))
    again = trials(Space(parameters=space, mode="random", samples=12, seed=4))
    other = trials(Space(parameters=space, mode="random", samples=12, seed=5))
    assert [t.params for t in first] == [t.params for t in again]
    assert [t.params for t in first] != [t.params for t in other]
    assert len({json.dumps(t.params, sort_keys=True) for t in first}) == 12


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"parameters": {}}, "at least one parameter"),
        ({"parameters": {EDGE: ()}}, "has no values"),
        ({"parameters": {EDGE: (1,)}, "mode": "bayes"}, "expected one of grid, random"),
        ({"parameters": {EDGE: (1,)}, "samples": 0}, "at least 1"),
    ],
)
def test_a_bad_space_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Space(**fields)  # type: ignore[arg-type]


def test_a_sweep_file_in_toml_or_json(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(f'mode = "random"\nsamples = 3\nseed = 9\n[parameters]\n"{EDGE}" = [3, 5]\n')
    assert load_space(toml) == Space(parameters={EDGE: (3, 5)}, mode="random", samples=3, seed=9)
    data = tmp_path / "s.json"
    data.write_text(json.dumps({"parameters": {KELLY: [0.1]}}))
    assert load_space(data).parameters == {KELLY: (0.1,)}


@pytest.mark.parametrize(
    ("text", "message"),
    [("[parameters]\nx = 3\n", "table of key = \\[values\\]"), ("mode = ", "s.toml")],
)
def test_a_bad_sweep_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_space(path)


def test_window_totals_and_calendar() -> None:
    assert window_totals([1, 2, 3, 4, 5], 2) == [6, 9]
    assert window_totals([1, 2], 5) == [1, 2]
    start = datetime(2026, 1, 5, 14, tzinfo=UTC)
    assert calendar(start, datetime(2026, 1, 7, tzinfo=UTC)) == ["2026-01-05", "2026-01-06"]


def plan(**fields: object) -> SweepPlan:
    values = {
        "space": Space(parameters={EDGE: (3, 5, 8)}),
        "base": Base(data_dir=str(BUNDLED_HISTORY), data_sets=("kxinxu",)),
        "start": datetime(2026, 1, 5, tzinfo=UTC),
        "end": datetime(2026, 1, 9, tzinfo=UTC),
        "windows": 4,
    }
    return SweepPlan(**{**values, **fields})  # type: ignore[arg-type]


def test_the_median_over_windows_ranks_not_one_lucky_day() -> None:
    results = [
        # t1: one huge day, three losing days -> best total, worst median
        TrialResult(
            name="t1-in-sample",
            daily={"2026-01-05": 900, "2026-01-06": -10, "2026-01-07": -10, "2026-01-08": -10},
        ),
        # t2: steady small gains
        TrialResult(name="t2-in-sample", daily={d: 20 for d in calendar(plan().start, plan().end)}),
        TrialResult(name="t3-in-sample", daily={}, error="ConfigError: boom"),
    ]
    table = rank(plan(), results)
    assert [row["trial"] for row in table] == ["t2", "t1", "t3"]
    assert table[0]["median_window_net"] == 20
    assert table[1]["net"] == 870
    assert table[2]["error"] == "ConfigError: boom"  # a failed trial ranks last


def test_trials_that_all_scored_the_same_have_no_overfitting_figure() -> None:
    """Nothing traded in any trial: every split's winner is arbitrary, so PBO is n/a, not 1.00."""
    days = calendar(plan().start, plan().end)
    results = [TrialResult(name=f"t{n}-in-sample", daily={d: 0 for d in days}) for n in (1, 2, 3)]
    figure = overfitting(plan(blocks=4), results)
    assert figure["pbo"] is None
    assert overfitting_line(figure) == (
        "probability of backtest overfitting: n/a (every trial scored the same on every period: "
        "there is no best trial to overfit)"
    )
    results[1] = TrialResult(name="t2-in-sample", daily={**results[1].daily, days[-1]: 100})
    assert overfitting(plan(blocks=4), results)["pbo"] is not None  # one differed: computed


@pytest.mark.slow
def test_a_sweep_where_nothing_traded_says_the_figure_is_undefined(tmp_path: Path) -> None:
    result = small_sweep(tmp_path, "--param", f"{EDGE}=95,99")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    written = json.loads((tmp_path / "sweep.json").read_text())
    assert all(row["orders"] == 0 for row in written["trials"])
    assert written["overfitting"]["pbo"] is None
    assert "overfitting: n/a (every trial scored the same" in result.output  # type: ignore[attr-defined]
    assert "1.00" not in result.output  # type: ignore[attr-defined]


def test_a_holdout_that_eats_the_window_is_refused() -> None:
    with pytest.raises(ConfigError, match="leaves no in-sample time"):
        plan(holdout_days=4)
    with pytest.raises(ConfigError, match="is not before"):
        plan(end=datetime(2026, 1, 5, tzinfo=UTC))


def test_a_bad_trial_setting_is_refused_before_any_work() -> None:
    bad = plan(space=Space(parameters={"risk.max_position_pct": (0.02, 7)}))
    with pytest.raises(ConfigError, match=r"(?s)trial t2 .*max_position_pct = 7 is out of range"):
        check_tasks(bad.in_sample_tasks(), bad.base.data_dir)


def cli(*args: str) -> object:
    return CliRunner().invoke(make_cli(App.create()), list(args))


def small_sweep(output: Path, *args: str) -> object:
    """`kalshi-core sweep` over two days of kxinxu, a 4-hour cycle, one day held out, the
    best trial rechecked, two workers, writing into ``output``; ``args`` add to it."""
    return cli(
        *("sweep", "--data-set", "kxinxu", "--from", "2026-01-05T14:00"),
        *("--to", "2026-01-07T21:00", "--holdout-days", "1", "--top", "1"),
        *("--set", "run.cycle_seconds=14400", "--output", str(output), "--workers", "2"),
        *args,
    )


def test_the_command_refuses_a_sweep_without_parameters(tmp_path: Path) -> None:
    result = cli("sweep", "--from", "2026-01-05", "--to", "2026-01-07", "--output", str(tmp_path))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "at least one parameter" in result.output  # type: ignore[attr-defined]


@pytest.mark.slow
def test_the_command_ranks_rechecks_and_writes_json(tmp_path: Path) -> None:
    result = small_sweep(tmp_path, "--windows", "2", "--param", f"{EDGE}=3,12")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    written = json.loads((tmp_path / "sweep.json").read_text())
    assert [row["rank"] for row in written["trials"]] == [1, 2]
    assert len(written["rechecked"]) == 1
    assert written["rechecked"][0]["trial"] == written["trials"][0]["trial"]
    assert {p.name for p in (tmp_path / "trials").iterdir()} == {
        f"{written['trials'][0]['trial']}-holdout.sqlite3",
        "t1-in-sample.sqlite3",
        "t2-in-sample.sqlite3",
    }
    assert "probability of backtest overfitting" in result.output  # type: ignore[attr-defined]
