"""A run on a window of recorded time: `--from` / `--to` cut the history, never the book's past."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kalshi_core.cli import main
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import BUNDLED_HISTORY
from kalshi_core.exchange.replay import EventKind, History, load_history, window

START = datetime(2026, 1, 5, 12, tzinfo=UTC)
END = datetime(2026, 1, 7, 18, tzinfo=UTC)


@pytest.fixture(scope="module")
def kxinxu() -> History:
    return load_history(BUNDLED_HISTORY, ["kxinxu"])


def test_markets_closed_before_the_start_or_opening_after_the_end_are_dropped(
    kxinxu: History,
) -> None:
    cut = window(kxinxu, START, END)
    assert cut.markets
    assert all(m.close_time > START and m.open_time < END for m in cut.markets)
    dropped = set(kxinxu.results) - set(cut.results)
    assert dropped, "the window should leave markets out"
    assert {e.ticker for e in cut.events} <= {m.ticker for m in cut.markets}


def test_the_past_is_applied_at_the_start_in_recorded_order(kxinxu: History) -> None:
    cut = window(kxinxu, START, END)
    assert cut.start_time == START
    before = [e for e in cut.events if e.time == START]
    originals = [e for e in kxinxu.events if e.time <= START and e.ticker in cut.results]
    assert [(e.kind, e.ticker) for e in before] == [(e.kind, e.ticker) for e in originals]
    trades = [e.trade for e in before if e.trade is not None]
    assert trades
    assert all(t.created_time <= START for t in trades), "prints keep their own time"
    assert [e.time for e in cut.events] == sorted(e.time for e in cut.events)


def test_nothing_after_the_end_is_replayed_so_late_markets_stay_unsettled(
    kxinxu: History,
) -> None:
    cut = window(kxinxu, START, END)
    assert cut.end_time <= END
    settled = {e.ticker for e in cut.events if e.kind is EventKind.FINALIZE}
    assert any(m.close_time > END for m in cut.markets)
    assert all(m.ticker not in settled for m in cut.markets if m.close_time > END)


def test_no_window_is_the_whole_history(kxinxu: History) -> None:
    assert window(kxinxu, None, None) is kxinxu


def test_an_inverted_window_is_refused(kxinxu: History) -> None:
    with pytest.raises(ConfigError, match="not before its end"):
        window(kxinxu, END, START)


def test_a_window_outside_the_history_names_the_span_it_covers(kxinxu: History) -> None:
    with pytest.raises(ConfigError, match=r"spans 2026-01-0.* to 2026-02-1"):
        window(kxinxu, datetime(2030, 1, 1, tzinfo=UTC), None)


def run_cli(
    args: list[str],
    database: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("KALSHI_RUN__VENUE", "simulated")
    with pytest.raises(SystemExit) as exited:
        main(["run", "--data-set", "kxinxu", *args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


@pytest.mark.slow
@pytest.mark.usefixtures("trade_unproven_edges")  # needs orders to check
def test_run_on_a_window_trades_only_inside_it(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = isolated / "window.sqlite3"
    code, output = run_cli(
        ["--from", "2026-01-05T12:00", "--to", "2026-01-07"], database, monkeypatch, capsys
    )
    assert code == 0, output
    with sqlite3.connect(database) as db:
        times = [row[0] for row in db.execute("select created_time from orders")]
    assert times, "the window traded nothing: nothing was checked"
    micros = [datetime(2026, 1, d, h, tzinfo=UTC).timestamp() * 1e6 for d, h in ((5, 12), (7, 0))]
    assert micros[0] <= min(times)
    assert max(times) <= micros[1]


def test_run_refuses_a_window_with_no_market_in_one_line(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run_cli(["--from", "2031-01-01"], isolated / "e.sqlite3", monkeypatch, capsys)
    assert code == 2
    assert "no recorded market in kxinxu trades between 2031-01-01 00:00 UTC" in output
