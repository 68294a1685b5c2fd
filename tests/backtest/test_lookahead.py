"""The look-ahead check: truncated copies of the history, decisions before each cut compared.

A planted oracle (a forecaster plugin installed for the test, reading the markets' results
from the history folder at start-up into a module global) must be caught; the built-in
forecaster and strategies must pass clean.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.backtest.lookahead import check, cut_points, truncate_history
from kalshi_core.backtest.sweep import Base
from kalshi_core.cli import make_cli
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import BUNDLED_HISTORY

ORACLE = """
import json
from pathlib import Path

from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Forecast

RESULTS = {}  # the global the oracle peeks through


@hookimpl
def startup(app):
    RESULTS.clear()
    folder = Path(app.section("exchange")["data_dir"])
    for line in (folder / "kxinxu" / "markets.jsonl").read_text().splitlines():
        market = json.loads(line)
        RESULTS[market["ticker"]] = market["result"]


class Oracle:
    name = "oracle"

    async def forecast(self, market, context):
        result = RESULTS.get(market.ticker)
        if result is None:
            return None
        chance = 9900 if result == "yes" else 100
        return Forecast(ticker=market.ticker, probability=chance, model="oracle",
                        created_time=context.now)


@hookimpl
def register_forecasters(register):
    register("oracle", lambda section, **_: Oracle())
"""

WINDOW = {
    "start": datetime(2026, 1, 5, 14, tzinfo=UTC),
    "end": datetime(2026, 1, 6, 21, tzinfo=UTC),
}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def market(ticker: str, opens: str, closes: str, result: str) -> dict[str, str]:
    return {
        "ticker": ticker,
        "event_ticker": "EV",
        "series_ticker": "S",
        "category": "c",
        "title": ticker,
        "open_time": opens,
        "close_time": closes,
        "status": "finalized",
        "result": result,
    }


def write_set(folder: Path) -> None:
    folder.mkdir(parents=True)
    markets = [
        market("CLOSED", "2026-01-01T00:00:00Z", "2026-01-01T12:00:00Z", "yes"),
        market("OPEN", "2026-01-01T00:00:00Z", "2026-01-03T12:00:00Z", "yes"),
        market("LATER", "2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z", "no"),
    ]
    (folder / "markets.jsonl").write_text("".join(json.dumps(m) + "\n" for m in markets))
    trades = [
        {
            "ticker": "OPEN",
            "created_time": t,
            "yes_price": 40,
            "no_price": 60,
            "count": 1,
            "taker_side": "yes",
            "trade_id": t,
        }
        for t in ("2026-01-01T06:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T06:00:00Z")
    ]
    text = "".join(json.dumps(t) + "\n" for t in trades)
    (folder / "trades.jsonl.gz").write_bytes(gzip.compress(text.encode()))


def test_a_truncated_copy_holds_only_what_was_known_at_the_cut(tmp_path: Path) -> None:
    write_set(tmp_path / "src" / "s")
    cut = datetime(2026, 1, 2, tzinfo=UTC)
    truncate_history(tmp_path / "src", ["s"], cut, tmp_path / "cut")
    lines = (tmp_path / "cut" / "s" / "markets.jsonl").read_text().splitlines()
    kept = {m["ticker"]: m for m in map(json.loads, lines)}
    assert set(kept) == {"CLOSED", "OPEN"}  # LATER was not listed yet
    assert kept["CLOSED"]["result"] == "yes"  # closed by the cut: known
    assert kept["OPEN"]["result"] == "no"  # still open: told the future that did not happen
    trades = gzip.decompress((tmp_path / "cut" / "s" / "trades.jsonl.gz").read_bytes())
    times = [when(json.loads(t)["created_time"]) for t in trades.decode().splitlines()]
    assert times == [datetime(2026, 1, 1, 6, tzinfo=UTC), cut]


def test_a_missing_data_set_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nope' has no markets\.jsonl"):
        truncate_history(tmp_path, ["nope"], datetime(2026, 1, 2, tzinfo=UTC), tmp_path / "x")


def test_cut_points_lie_inside_the_window() -> None:
    cuts = cut_points(WINDOW["start"], WINDOW["end"], 3)
    assert len(cuts) == 3
    assert all(WINDOW["start"] < c < WINDOW["end"] for c in cuts)
    assert cuts == sorted(cuts)
    with pytest.raises(ConfigError, match="empty"):
        cut_points(WINDOW["end"], WINDOW["start"], 2)


def test_the_command_refuses_an_inverted_window(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        make_cli(App.create()),
        [
            "check-lookahead",
            "--from",
            "2026-01-07",
            "--to",
            "2026-01-05",
            "--output",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "is empty" in result.output
    assert not (tmp_path / "lookahead" / "full.sqlite3").exists()


def install_oracle(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real installed plugin: a module plus a dist-info with its entry point."""
    (root / "oracle_plugin.py").write_text(ORACLE)
    info = root / "oracle_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: oracle-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[kalshi_core]\noracle = oracle_plugin\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin,oracle")


def base(**overrides: object) -> Base:
    return Base(
        data_dir=str(BUNDLED_HISTORY),
        data_sets=("kxinxu",),
        overrides={"run.cycle_seconds": 7200.0, **overrides},
    )


@pytest.mark.slow
def test_a_forecaster_that_reads_the_results_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "site").mkdir()
    install_oracle(tmp_path / "site", monkeypatch)
    report = check(base(**{"forecast.models": ["oracle"]}), **WINDOW, output=tmp_path, cuts=1)
    assert report.biased
    changed = report.cuts[0].changed
    assert any("intent" in line for line in changed)
    assert report.lines()[-1] == "look-ahead bias found"


@pytest.mark.slow
def test_the_built_in_pipeline_passes_clean(tmp_path: Path) -> None:
    report = check(base(), **WINDOW, output=tmp_path, cuts=2)
    assert not report.biased
    assert all(cut.compared > 0 for cut in report.cuts)  # there were decisions to compare


def test_backtest_check_lookahead_needs_a_window(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        make_cli(App.create()), ["backtest", "--check-lookahead", "--output", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--check-lookahead needs a window" in result.output


@pytest.mark.slow
def test_backtest_check_lookahead_checks_the_backtest_it_would_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flag on `backtest` runs the check over the same data, window and settings."""
    (tmp_path / "site").mkdir()
    install_oracle(tmp_path / "site", monkeypatch)
    window = [
        f"--{k}={v:%Y-%m-%dT%H:%M}" for k, v in zip(("from", "to"), WINDOW.values(), strict=True)
    ]
    args = ["--data-set", "kxinxu", "--set", "run.cycle_seconds=7200", *window]
    result = CliRunner().invoke(
        make_cli(App.create()),
        [
            "backtest",
            "--check-lookahead",
            *args,
            "--set",
            'forecast.models=["oracle"]',
            "--output",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "look-ahead bias found" in result.output


# the audit's command: the shipped cycle of 120 s (the `isolated` sandbox sets 600)
AUDITED = [
    *("check-lookahead", "--from", "2026-01-05T17:00", "--to", "2026-01-05T20:30"),
    *("--set", "run.cycle_seconds=120"),
]


@pytest.mark.parametrize(
    "curve", ["trading", pytest.param("shipped", marks=pytest.mark.shipped_defaults)]
)
def test_the_shipped_settings_pass_where_a_truncated_run_stops_before_its_cut(
    isolated: Path, curve: str
) -> None:
    """The audit's false positive: with the shipped settings the truncated copy's last event
    comes before the 18:10 cut, so its run stops at 18:06 while the full run decides again at
    18:08. Only the cycles both ran are compared; the JSON result says how far. With the
    shipped curve (the audit's command) and with the tests' trading curve (orders too)."""
    output = isolated / "la"
    result = CliRunner().invoke(
        make_cli(App.create()),
        [*AUDITED, "--cuts", "2", "--output", str(output)],
    )
    assert result.exit_code == 0, result.output
    assert "(up to 18:06, the truncated run's last cycle), none changed" in result.output
    assert result.output.splitlines()[-1] == "no look-ahead bias found"
    written = json.loads((output / "lookahead.json").read_text())
    assert written["schema"] == "kalshi-core.lookahead/1"
    assert written["biased"] is False
    first = written["cuts"][0]
    assert (first["cut"], first["compared_until"]) == (
        "2026-01-05T18:10:00+00:00",
        "2026-01-05T18:06:00+00:00",
    )
    assert all(cut["decisions"] > 0 and cut["changed"] == [] for cut in written["cuts"])


@pytest.mark.slow
def test_an_oracle_is_caught_by_the_command_with_the_shipped_settings(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrower comparison still catches a plugin that peeks at the results, on the same
    window and cuts that used to give the false positive; the JSON result says so."""
    (isolated / "site").mkdir()
    install_oracle(isolated / "site", monkeypatch)
    output = isolated / "la"
    result = CliRunner().invoke(
        make_cli(App.create()),
        [*AUDITED, "--set", 'forecast.models=["oracle"]', "--cuts", "2", "--output", str(output)],
    )
    assert result.exit_code == 1, result.output
    assert "look-ahead bias found" in result.output
    written = json.loads((output / "lookahead.json").read_text())
    assert written["biased"] is True
    assert any("intent" in line for cut in written["cuts"] for line in cut["changed"])
