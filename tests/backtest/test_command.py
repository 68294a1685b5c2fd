"""``kalshi-core backtest`` end to end: bundled and never-seen data, reproducible bytes, and a
one-line error (exit 2) for every bad input, with nothing touched."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from kalshi_core import signals
from kalshi_core.cli import main
from tests.venues.conftest import copy_set

WINDOW = ["--from", "2026-01-05T17:00", "--to", "2026-01-05T20:30"]
SHORT = ["--from", "2026-01-05T17:00", "--to", "2026-01-05T18:00"]


def backtest(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(["backtest", *args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


@pytest.mark.slow
def test_the_same_backtest_twice_writes_the_same_json_and_compares_to_no_difference(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = [isolated / "one", isolated / "two"]
    for output in outputs:
        code, text = backtest(["--data-set", "kxinxu", *WINDOW, "--output", str(output)], capsys)
        assert code == 0, text
        assert "net P&L" in text
        assert "events/s" in text
    first, second = ((o / "results.json").read_bytes() for o in outputs)
    assert first == second
    results = json.loads(first)
    assert results["session"]["fills_stored"] > 0, "the window traded nothing: nothing checked"
    assert results["pnl"]["net"] == results["pnl"]["realised"] + results["pnl"]["unrealised"]
    assert results["run"]["from"] == "2026-01-05T17:00:00Z"
    still_open = [m for m in results["markets"] if m["status"] == "open"]
    assert still_open, "the window closed every position: the mark was not checked"
    assert all(m["valued"] == "marked at the last recorded trade" for m in still_open)
    assert results["data_caveats"]["kxinxu"]
    assert (outputs[0] / "report.html").read_text().count("<svg") >= 5
    with sqlite3.connect(outputs[0] / "backtest.sqlite3") as db:
        venue = {
            t: r - f
            for t, r, f in db.execute("select ticker, realized_pnl, fees_paid from positions")
        }
    for market in results["markets"]:  # our books against the venue's, market by market
        if market["status"] != "open":
            assert market["pnl"] == venue[market["ticker"]], market
    assert not (isolated / "run.sqlite3").exists(), "a backtest touched the trading database"
    code, text = backtest(["compare", str(outputs[0]), str(outputs[1] / "results.json")], capsys)
    assert code == 0, text
    assert "net P&L" in text


@pytest.mark.slow
def test_a_backtest_runs_on_a_data_set_it_has_never_seen(
    isolated: Path, shared_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = isolated / "history"
    copy_set(shared_data_dir / "kxinxu", data / "unseen", prefix="NEW", closing_before="2026-01-06")
    output = isolated / "out"
    code, text = backtest(
        [
            "--data",
            str(data),
            "--from",
            "2026-01-05T17:00",
            "--to",
            "2026-01-05T21:30",
            "--seed",
            "3",
            "--output",
            str(output),
        ],
        capsys,
    )
    assert code == 0, text
    results = json.loads((output / "results.json").read_text())
    assert results["run"]["data_sets"] == ["unseen"]
    assert results["run"]["seed"] == 3
    assert results["session"]["fills_stored"] > 0
    assert {m["ticker"][:3] for m in results["markets"]} == {"NEW"}
    assert {row["group"] for row in results["attribution"]["series"]} == {"NEWKXINXU"}


BAD_INPUT = [
    (["--set", "risk.max_position_pct"], "expected key=value"),
    (["--set", "risk.max_position_pct=7"], "out of range"),
    (["--strategy", "no_such_strategy"], "no_such_strategy"),
    (["--data-set", "nope"], "history data set 'nope' not found"),
    (["--from", "2026-01-07", "--to", "2026-01-05"], "not before its end"),
    (["--from", "2031-01-01"], "no recorded market in kxinxu"),
    (["--from", "yesterday"], "Invalid value for '--from'"),
]


def plant_previous_backtest(output: Path) -> dict[str, bytes]:
    """A previous backtest's files in ``output`` (their bytes, to compare with afterwards)."""
    output.mkdir()
    (output / "results.json").write_text('{"previous": true}')
    (output / "report.html").write_text("<p>previous</p>")
    with sqlite3.connect(output / "backtest.sqlite3") as db:
        db.execute("create table previous (x)")
    return folder_bytes(output)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_leaves_the_last_results_alone(
    isolated: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    output = isolated / "out"
    previous = plant_previous_backtest(output)
    around = sorted(p.name for p in isolated.iterdir())
    code, text = backtest(["--data-set", "kxinxu", *args, "--output", str(output)], capsys)
    assert code == 2
    assert message in text
    assert "Traceback" not in text
    assert folder_bytes(output) == previous  # every file byte for byte, none added
    assert sorted(p.name for p in isolated.iterdir()) == around  # no staging folder left


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_creates_no_output_folder(
    isolated: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    around = sorted(p.name for p in isolated.iterdir())
    output = isolated / "new" / "deeper"
    code, text = backtest(["--data-set", "kxinxu", *args, "--output", str(output)], capsys)
    assert code == 2
    assert message in text
    assert not (isolated / "new").exists()
    assert sorted(p.name for p in isolated.iterdir()) == around


def test_a_new_backtest_replaces_the_previous_one_and_nothing_else(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = isolated / "out"
    plant_previous_backtest(output)
    (output / "backtest.sqlite3-wal").write_bytes(b"a stale journal of the old database")
    (output / "notes.txt").write_text("mine")
    code, text = backtest(["--data-set", "kxinxu", *SHORT, "--output", str(output)], capsys)
    assert code == 0, text
    assert json.loads((output / "results.json").read_text())["run"]["from"] == SHORT[1] + ":00Z"
    assert "<svg" in (output / "report.html").read_text()
    assert not (output / "backtest.sqlite3-wal").exists()
    with sqlite3.connect(output / "backtest.sqlite3") as db:
        assert db.execute("select count(*) from decisions").fetchone()[0] > 0
    assert (output / "notes.txt").read_text() == "mine"
    assert [p.name for p in isolated.iterdir() if p.name.startswith(".")] == []


def test_a_run_that_dies_midway_leaves_the_previous_backtest(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A KeyboardInterrupt out of the engine (a Ctrl-C before the session's own handler, or
    any crash): nothing of the half-run is published."""
    output = isolated / "out"
    previous = plant_previous_backtest(output)

    def die(sender: object, **_: object) -> None:
        raise KeyboardInterrupt

    signals.cycle_completed.connect(die)
    try:
        code, text = backtest(["--data-set", "kxinxu", *SHORT, "--output", str(output)], capsys)
    finally:
        signals.cycle_completed.disconnect(die)
    assert code == 130
    assert "interrupted before the results were written" in text
    assert "Traceback" not in text
    assert folder_bytes(output) == previous
    assert [p.name for p in isolated.iterdir() if p.name.startswith(".")] == []


def test_an_interrupted_backtest_says_it_is_partial_and_exits_130(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real SIGINT at the third cycle: the session finishes that cycle and stops; the
    results are written, flagged, and the exit status is not success."""
    output = isolated / "out"
    cycles = []

    def interrupt_at_the_third(sender: object, **_: object) -> None:
        cycles.append(sender)
        if len(cycles) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    signals.cycle_completed.connect(interrupt_at_the_third)
    try:
        code, text = backtest(["--data-set", "kxinxu", *SHORT, "--output", str(output)], capsys)
    finally:
        signals.cycle_completed.disconnect(interrupt_at_the_third)
    assert code == 130, text
    assert "INTERRUPTED: this backtest covers the window ending 2026-01-05T18:00:00Z only up" in (
        " ".join(text.split())
    )
    results = json.loads((output / "results.json").read_text())
    assert results["session"]["stopped_because"].startswith("interrupted")
    # the signal is handled at the loop's next turn: the cycle in hand may finish first; an
    # hour of 10-minute cycles would be 6
    assert 3 <= results["session"]["cycles"] < 6


def test_a_finished_backtest_is_not_called_interrupted(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = backtest(["--data-set", "kxinxu", *SHORT, "--output", str(isolated / "o")], capsys)
    assert code == 0, text
    assert "INTERRUPTED" not in text


def test_no_output_folder_is_a_usage_error(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = backtest(["--data-set", "kxinxu"], capsys)
    assert code == 2
    assert "--output DIR is required" in text


def test_an_output_that_is_a_file_is_refused(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated / "taken").write_text("mine")
    code, text = backtest(["--output", str(isolated / "taken")], capsys)
    assert code == 2
    assert "is a file" in text
    assert (isolated / "taken").read_text() == "mine"


def test_compare_of_something_that_is_not_results_exits_2(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated / "notes.txt").write_text("hello")
    code, text = backtest(["compare", str(isolated / "notes.txt"), str(isolated)], capsys)
    assert code == 2
    assert "not a backtest results file" in text


@pytest.mark.parametrize(
    ("args", "source"),
    [
        (["--strategy", "nope"], "--strategy"),
        (["--set", 'strategies.enabled=["nope"]'], "--set"),
    ],
)
def test_an_unknown_strategy_names_the_option_that_chose_it(
    isolated: Path, capsys: pytest.CaptureFixture[str], args: list[str], source: str
) -> None:
    code, text = backtest([*args, "--output", str(isolated / "out")], capsys)
    assert code == 2
    assert (
        "allowed is an installed strategy's name (directional, exits, market_maker) "
        f"(set by {source})\n"
    ) in text
    assert "strategys" not in text
    assert "[default] in" not in text
    assert "Traceback" not in text
    assert not (isolated / "out").exists()


def test_an_unknown_setting_is_warned_about_once(
    isolated: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    window = ["--from", "2026-01-05T17:00", "--to", "2026-01-05T17:30"]
    args = ["--data-set", "kxinxu", *window, "--set", "risk.unknown_key=1"]
    with caplog.at_level(logging.WARNING, logger="kalshi_core.app"):
        code, text = backtest([*args, "--output", str(isolated / "out")], capsys)
    assert code == 0, text
    warnings = [r.getMessage() for r in caplog.records if "unknown setting" in r.getMessage()]
    assert warnings == ["unknown setting risk.unknown_key (set by --set)"]
