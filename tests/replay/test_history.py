"""Loading recorded history: counts, ordering, and errors that name the file and line."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from kalshi_core.errors import ConfigError, WireFormatError
from kalshi_core.exchange.replay import EventKind, History, Timing, load_history
from kalshi_core.models import MarketResult, MarketStatus

MARKET: dict[str, object] = {
    "ticker": "KXTEST-26MAR01-T50",
    "event_ticker": "KXTEST-26MAR01",
    "series_ticker": "KXTEST",
    "category": "Test",
    "title": "Test market",
    "open_time": "2026-03-01T10:00:00.000Z",
    "close_time": "2026-03-01T11:00:00.000Z",
    "status": "finalized",
    "result": "yes",
}
TRADE: dict[str, object] = {
    "trade_id": "t1",
    "ticker": "KXTEST-26MAR01-T50",
    "created_time": "2026-03-01T10:30:00.000Z",
    "yes_price": 40,
    "no_price": 60,
    "count": 3,
    "taker_side": "yes",
}


def write_set(root: Path, name: str, markets: list[dict[str, object]], **files: list[str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "markets.jsonl").write_text("".join(json.dumps(m) + "\n" for m in markets))
    for stem, lines in files.items():
        with gzip.open(folder / f"{stem}.jsonl.gz", "wt", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in lines)
    return folder


def test_bundled_sets_match_the_data_readme(
    kxinxu: History, crypto: History, shared_data_dir: Path
) -> None:
    assert len(kxinxu.markets) == 173
    assert len(crypto.markets) == 173
    assert sum(e.kind is EventKind.TRADE for e in kxinxu.events) == 33_668
    assert sum(e.kind is EventKind.QUOTE for e in crypto.events) == 13_104
    # The README says 87 kxinxu markets settled yes; its markets.jsonl has 88 (the file wins).
    for name, history in (("kxinxu", kxinxu), ("crypto15m", crypto)):
        lines = (shared_data_dir / name / "markets.jsonl").read_text().splitlines()
        raw_yes = sum(json.loads(line)["result"] == "yes" for line in lines)
        assert sum(r is MarketResult.YES for r in history.results.values()) == raw_yes
    assert sum(r is MarketResult.YES for r in crypto.results.values()) == 93


def test_markets_are_listed_initialized_with_the_result_kept_aside(kxinxu: History) -> None:
    for market in kxinxu.markets:
        assert market.status is MarketStatus.INITIALIZED
        assert market.result is MarketResult.NONE
        assert market.settlement_value is None
        assert kxinxu.results[market.ticker] in (MarketResult.YES, MarketResult.NO)


def test_merged_stream_is_time_ordered_with_lifecycle_in_order(both: History) -> None:
    keys = [(e.time, e.kind) for e in both.events]
    assert keys == sorted(keys)
    assert len(both.markets) == 346
    assert both.start_time == both.events[0].time
    per_market: dict[str, list[EventKind]] = {}
    for event in both.events:
        if event.kind not in (EventKind.TRADE, EventKind.QUOTE):
            per_market.setdefault(event.ticker, []).append(event.kind)
    expected = [EventKind.LIST, EventKind.OPEN, EventKind.CLOSE]
    expected += [EventKind.DETERMINE, EventKind.FINALIZE]
    assert all(kinds == expected for kinds in per_market.values())
    assert len(per_market) == 346


def test_lifecycle_timing_is_configurable(shared_data_dir: Path) -> None:
    timing = Timing(determine_after=timedelta(hours=2))
    history = load_history(shared_data_dir, ["crypto15m"], timing=timing)
    market = history.markets[0]
    determine = next(
        e for e in history.events if e.kind is EventKind.DETERMINE and e.ticker == market.ticker
    )
    assert determine.time - market.close_time == timing.determine_after


def test_malformed_trade_line_names_file_and_line(tmp_path: Path) -> None:
    bad = dict(TRADE, yes_price="forty")
    write_set(tmp_path, "s", [MARKET], trades=[json.dumps(TRADE), json.dumps(bad)])
    with pytest.raises(WireFormatError, match=r"trades\.jsonl\.gz:2"):
        load_history(tmp_path, ["s"])


def test_line_that_is_not_json_names_file_and_line(tmp_path: Path) -> None:
    write_set(tmp_path, "s", [MARKET], quotes=["{not json"])
    with pytest.raises(WireFormatError, match=r"quotes\.jsonl\.gz:1: not JSON"):
        load_history(tmp_path, ["s"])


def test_malformed_market_line_names_file_and_line(tmp_path: Path) -> None:
    write_set(tmp_path, "s", [MARKET, dict(MARKET, ticker="X-1-2", result="maybe")])
    with pytest.raises(WireFormatError, match=r"markets\.jsonl:2"):
        load_history(tmp_path, ["s"])


def test_trade_of_an_unknown_market_names_file_and_line(tmp_path: Path) -> None:
    write_set(tmp_path, "s", [MARKET], trades=[json.dumps(dict(TRADE, ticker="KXOTHER-1-2"))])
    with pytest.raises(WireFormatError, match=r"trades\.jsonl\.gz:1: ticker: KXOTHER-1-2"):
        load_history(tmp_path, ["s"])


def test_market_closing_before_it_opens_is_rejected(tmp_path: Path) -> None:
    write_set(tmp_path, "s", [dict(MARKET, close_time="2026-03-01T09:00:00Z")])
    with pytest.raises(WireFormatError, match=r"markets\.jsonl:1: close_time"):
        load_history(tmp_path, ["s"])


def test_ticker_in_two_sets_is_rejected(tmp_path: Path) -> None:
    write_set(tmp_path, "a", [MARKET])
    write_set(tmp_path, "b", [MARKET])
    with pytest.raises(WireFormatError, match="listed twice"):
        load_history(tmp_path, ["a", "b"])


def test_missing_set_lists_the_available_ones(shared_data_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nope'.*available: crypto15m, kxinxu"):
        load_history(shared_data_dir, ["kxinxu", "nope"])


@pytest.mark.parametrize("name", ["..", ".", "", "../outside", "/abs"])
def test_set_names_cannot_leave_the_data_dir(tmp_path: Path, name: str) -> None:
    root = tmp_path / "root"
    write_set(root, "ok", [MARKET])
    write_set(tmp_path, "outside", [MARKET])
    write_set(tmp_path, "abs", [MARKET])
    (tmp_path / "markets.jsonl").write_text(json.dumps(MARKET) + "\n")
    (root / "markets.jsonl").write_text(json.dumps(MARKET) + "\n")
    with pytest.raises(ConfigError, match=r"available: ok$"):
        load_history(root, [name.replace("/abs", str(tmp_path / "abs"))])


def test_no_sets_selected_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no history data sets selected"):
        load_history(tmp_path, [])


def test_any_directory_in_the_format_loads(tmp_path: Path, shared_data_dir: Path) -> None:
    shutil.copytree(shared_data_dir / "crypto15m", tmp_path / "mine")
    write_set(tmp_path, "tiny", [MARKET], trades=[json.dumps(TRADE)])
    history = load_history(tmp_path, ["tiny", "mine"])
    assert len(history.markets) == 174
    assert history.sets == ("tiny", "mine")
    trades = [e for e in history.events if e.kind is EventKind.TRADE]
    assert len(trades) == 1
    assert trades[0].trade is not None
    assert trades[0].trade.count == 300
