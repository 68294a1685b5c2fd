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
