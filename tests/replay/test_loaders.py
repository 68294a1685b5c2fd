"""History loaders as plugins: dispatch per set folder, each built-in format, set.json caveats,
a user's own loader through the hook, and errors that name the file and the line."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import kalshi_core
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ConfigError, WireFormatError
from kalshi_core.exchange.loaders.base import (
    NamedLoader,
    RecordedSet,
    as_listed,
    installed_loaders,
    loaders_of,
)
from kalshi_core.exchange.loaders.fixed_point import DepthQuote
from kalshi_core.exchange.replay import EventKind, Replay, available_sets, load_history, window
from kalshi_core.exchange.venue import Venue
from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Market, MarketResult, MarketStatus, PriceLevelStructure
from kalshi_core.plugins import PluginManager, collect

TAPE = Path(kalshi_core.__file__).parent / "data" / "replay_only" / "crypto15m_tape"
TICKER = "KXTEST-26MAR01-T50"
MARKET: dict[str, Any] = {
    "ticker": TICKER,
    "event_ticker": "KXTEST-26MAR01",
    "series_ticker": "KXTEST",
    "category": "Test",
    "title": "Test market",
    "open_time": "2026-03-01T10:00:00.000Z",
    "close_time": "2026-03-01T11:00:00.000Z",
    "status": "finalized",
    "result": "no",
}
FP_TRADE: dict[str, Any] = {
    "trade_id": "fp-1",
    "ticker": TICKER,
    "created_time": "2026-03-01T10:30:00.000Z",
    "yes_price_dollars": "0.0120",
    "no_price_dollars": "0.9880",
    "count_fp": "2.50",
    "taker_outcome_side": "no",
    "taker_book_side": "ask",
}
FP_QUOTE: dict[str, Any] = {
    "ticker": TICKER,
    "ts": "2026-03-01T10:20:00.000Z",
    "yes_bid": 0,
    "yes_ask": 2,
    "yes_bid_dollars": "0.0090",
    "yes_ask_dollars": "0.0130",
    "yes_depth_fp": "150.00",
    "no_depth_fp": "2000.50",
}


def jsonl(path: Path, records: list[Any]) -> None:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.write(text)
    else:
        path.write_text(text)


def fixed_point_set(root: Path, name: str = "fp", **changes: list[Any]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    jsonl(folder / "markets.jsonl", changes.get("markets", [MARKET]))
    jsonl(folder / "trades.jsonl.gz", changes.get("trades", [FP_TRADE]))
    jsonl(folder / "quotes.jsonl.gz", changes.get("quotes", [FP_QUOTE]))
    return folder


# ---- the fixed-point variant -------------------------------------------------------------------


def test_fixed_point_set_keeps_sub_penny_prices_fractional_counts_and_depth(
    tmp_path: Path,
) -> None:
    fixed_point_set(tmp_path)
    history = load_history(tmp_path, ["fp"])
    trade = next(e.trade for e in history.events if e.trade is not None)
    quote = next(e.quote for e in history.events if e.quote is not None)
    assert (trade.yes_price, trade.no_price, trade.count) == (120, 9880, 250)
    assert isinstance(quote, DepthQuote)
    assert (quote.yes_bid, quote.yes_ask, quote.bid_depth, quote.ask_depth) == (
        90,
        130,
        15000,
        200050,
    )
    market = history.markets[0]
    assert market.price_level_structure is PriceLevelStructure.TAPERED_DECI_CENT
    assert history.results == {TICKER: MarketResult.NO}


def test_the_replayed_book_stands_at_the_recorded_sub_penny_prices(tmp_path: Path) -> None:
    fixed_point_set(tmp_path)
    history = load_history(tmp_path, ["fp"])
    venue = Venue(ManualClock(history.start_time))
    Replay(venue, history).advance(datetime.fromisoformat("2026-03-01T10:25:00+00:00"))
    book = venue.orderbook(TICKER)
    assert book.best_yes_bid is not None
    assert book.best_yes_bid.price == 90  # $0.0090, off the whole-cent grid
    assert book.yes_asks[0].price == 130  # the $0.0130 ask


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"trades": [dict(FP_TRADE, no_price_dollars="0.9800")]},
            r"trades\.jsonl\.gz:1: yes_price",
        ),
        ({"trades": [FP_TRADE, dict(FP_TRADE, count_fp="0.00")]}, r"trades\.jsonl\.gz:2: count_fp"),
        ({"trades": [dict(FP_TRADE, count_fp="1.001")]}, r"trades\.jsonl\.gz:1"),
        ({"quotes": [dict(FP_QUOTE, yes_bid_dollars="0.0130")]}, r"quotes\.jsonl\.gz:1: yes_bid"),
        ({"quotes": [dict(FP_QUOTE, ticker="KXOTHER-1")]}, r"quotes\.jsonl\.gz:1: ticker"),
        ({"markets": [MARKET, MARKET]}, r"markets\.jsonl:2: ticker: .* listed twice"),
        ({"markets": [dict(MARKET, result="")]}, r"markets\.jsonl:1: result"),
    ],
)
def test_fixed_point_errors_name_file_and_line(
    tmp_path: Path, change: dict[str, list[Any]], message: str
) -> None:
    fixed_point_set(tmp_path, **change)
    with pytest.raises(WireFormatError, match=message):
        load_history(tmp_path, ["fp"])


def test_crypto15m_tape_loads_with_the_counts_of_its_readme() -> None:
    history = load_history(TAPE.parent, ["crypto15m_tape"])
    kinds = [e.kind for e in history.events]
    assert len(history.markets) == 188
    assert sum(r is MarketResult.YES for r in history.results.values()) == 85
    assert (kinds.count(EventKind.QUOTE), kinds.count(EventKind.TRADE)) == (13_983, 78)
    quotes = [e.quote for e in history.events if e.quote is not None]
    assert any(q.yes_bid % 100 or q.yes_ask % 100 for q in quotes)  # sub-penny kept exact
    caveats = history.caveats
    assert caveats[0].startswith("crypto15m_tape: results inferred: 157 of its 188 results")
    assert "do not fit calibration" in caveats[0]
    assert any("attribution: Johnny-God/kalshi-crypto-15m-dataset" in c for c in caveats)
    assert caveats[-1] == (
        "crypto15m_tape: 157 of 188 results are inferred from the last quote "
        "(result_source final_quote), not settled by Kalshi"
    )
    assert (TAPE / "LICENSE").read_text().startswith("Attribution 4.0 International")
    assert all(
        m.result is MarketResult.NONE and m.settlement_value is None for m in history.markets
    )


# ---- dispatch and set.json ---------------------------------------------------------------------


def test_set_json_caveats_merge_across_sets_and_survive_a_window(tmp_path: Path) -> None:
    folder = fixed_point_set(tmp_path, "a")
    info = {"caveats": ["selected on the outcome"], "outcome_selected": True, "sampling": "x"}
    (folder / "set.json").write_text(json.dumps(info))
    other = fixed_point_set(
        tmp_path, "b", markets=[dict(MARKET, ticker="KXTEST-26MAR01-T60")], trades=[], quotes=[]
    )
    (other / "set.json").write_text(json.dumps({"caveats": ["thin"]}))
    history = load_history(tmp_path, ["a", "b"])
    assert history.caveats == ("a: selected on the outcome", "b: thin")
    start = datetime.fromisoformat("2026-03-01T10:10:00+00:00")
    assert window(history, start, None).caveats == history.caveats


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ({"caveats": "one string"}, r"set\.json: caveats: expected a list of strings"),
        ({"caveats": [1]}, r"set\.json: caveats: expected a list of strings"),
        ({"outcome_selected": "yes"}, r"set\.json: outcome_selected: expected true or false"),
        ({"typo": 1}, r"set\.json: typo: unknown key"),
        ([], r"set\.json: expected an object"),
    ],
)
def test_bad_set_json_names_the_file_and_key(tmp_path: Path, info: Any, message: str) -> None:
    (fixed_point_set(tmp_path) / "set.json").write_text(json.dumps(info))
    with pytest.raises(WireFormatError, match=message):
        load_history(tmp_path, ["fp"])


def test_set_json_naming_an_uninstalled_loader_lists_the_installed(tmp_path: Path) -> None:
    (fixed_point_set(tmp_path) / "set.json").write_text(json.dumps({"loader": "parquet"}))
    with pytest.raises(ConfigError, match=r"'parquet', which is not installed .*documented"):
        load_history(tmp_path, ["fp"])


def test_set_json_chooses_the_loader_over_recognition(tmp_path: Path) -> None:
    # Read as the documented format, the fixed-point trade line is not a legacy print.
    (fixed_point_set(tmp_path) / "set.json").write_text(json.dumps({"loader": "documented"}))
    with pytest.raises(WireFormatError, match=r"trades\.jsonl\.gz:1"):
        load_history(tmp_path, ["fp"])


def test_a_folder_no_loader_reads_is_named(tmp_path: Path) -> None:
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "set.json").write_text("{}")
    (tmp_path / "odd" / "prices.parquet").write_bytes(b"PAR1")
    with pytest.raises(ConfigError, match=r"no installed history loader reads .*odd"):
        load_history(tmp_path, ["odd"])


def test_no_loader_installed_is_a_config_error(tmp_path: Path) -> None:
    fixed_point_set(tmp_path)
    with pytest.raises(ConfigError, match=r"not found .*available: none"):
        load_history(tmp_path, ["fp"], loaders=[])


# ---- Kalshi API responses --------------------------------------------------------------------


def api_market(ticker: str, result: str) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "event_ticker": "KXAPI-26MAR01",
        "status": "finalized" if result else "active",
        "open_time": "2026-03-01T10:00:00Z",
        "close_time": "2026-03-01T11:00:00Z",
        "result": result,
        "settlement_value_dollars": "1.0000" if result == "yes" else None,
        "yes_bid_dollars": "0.5000",
    }


def api_trade(trade_id: str, minute: int, price: str = "0.4200") -> dict[str, Any]:
    no = f"{1 - float(price):.4f}"
    return {
        "trade_id": trade_id,
        "ticker": "KXAPI-26MAR01-A",
        "created_time": f"2026-03-01T10:{minute:02d}:00Z",
        "yes_price_dollars": price,
        "no_price_dollars": no,
        "count_fp": "3.00",
        "taker_outcome_side": "yes",
        "taker_book_side": "bid",
    }


def candle(minute: int, bid: str | None, ask: str | None) -> dict[str, Any]:
    end = int(datetime.fromisoformat(f"2026-03-01T10:{minute:02d}:00+00:00").timestamp())
    return {
        "end_period_ts": end,
        "yes_bid": {"open_dollars": "0.0100", "high_dollars": "0.9900", "close_dollars": bid},
        "yes_ask": {"open_dollars": "0.0200", "low_dollars": "0.0100", "close_dollars": ask},
        "price": {},
        "volume_fp": "0.00",
        "open_interest_fp": "0.00",
    }


def kalshi_api_set(root: Path) -> Path:
    folder = root / "saved"
    folder.mkdir()
    markets = [api_market("KXAPI-26MAR01-A", "yes"), api_market("KXAPI-26MAR01-B", "")]
    (folder / "markets-page1.json").write_text(json.dumps({"markets": markets, "cursor": "c"}))
    page1 = [api_trade("t3", 40), api_trade("t2", 30)]  # newest first, as the API pages
    page2 = [api_trade("t2", 30), api_trade("t1", 20)]  # overlaps page 1
    (folder / "trades-1.json").write_text(json.dumps({"trades": page1, "cursor": "x"}))
    (folder / "trades-2.json").write_text(json.dumps({"trades": page2, "cursor": ""}))
    candles = [
        candle(15, "0.4000", "0.4300"),
        candle(16, None, "0.4300"),
        candle(17, "0.45", "0.44"),
    ]
    body = {"ticker": "KXAPI-26MAR01-A", "candlesticks": candles}
    (folder / "candles-A.json").write_text(json.dumps(body))
    series = {"ticker": "KXAPI", "title": "Api", "category": "Economics", "fee_type": "quadratic"}
    (folder / "series.json").write_text(json.dumps({"series": series}))
    return folder


def test_saved_kalshi_api_responses_replay(tmp_path: Path) -> None:
    kalshi_api_set(tmp_path)
    assert available_sets(tmp_path) == ["saved"]
    history = load_history(tmp_path, ["saved"])
    assert [m.ticker for m in history.markets] == ["KXAPI-26MAR01-A"]
    assert history.markets[0].settlement_value is None
    assert history.results == {"KXAPI-26MAR01-A": MarketResult.YES}
    assert history.series["KXAPI"].category == "Economics"
    trades = [e.trade.trade_id for e in history.events if e.trade is not None]
    assert trades == ["t1", "t2", "t3"]  # time order, the overlap read once
    quotes = [(e.quote.yes_bid, e.quote.yes_ask) for e in history.events if e.quote is not None]
    assert quotes == [(4000, 4300)]  # closes only; a missing or crossed close gives no quote
    assert history.caveats == ("saved: 1 saved markets without a yes/no result were skipped",)


def test_a_bad_saved_trade_names_the_file_and_record(tmp_path: Path) -> None:
    folder = kalshi_api_set(tmp_path)
    bad = {"trades": [api_trade("t9", 50), dict(api_trade("t8", 51), count_fp="many")]}
    (folder / "trades-3.json").write_text(json.dumps(bad))
    with pytest.raises(WireFormatError, match=r"trades-3\.json: trades\[1\]"):
        load_history(tmp_path, ["saved"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", r"odd\.json: not JSON"),
        ('{"orders": []}', r"odd\.json: not a saved markets, trades, candlesticks or series"),
        ('{"trades": {"a": 1}}', r"odd\.json: trades: expected a list"),
        ('{"candlesticks": []}', r"odd\.json: ticker: a candlesticks response names its market"),
    ],
)
def test_unreadable_saved_responses_are_named(tmp_path: Path, body: str, message: str) -> None:
    (kalshi_api_set(tmp_path) / "odd.json").write_text(body)
    with pytest.raises(WireFormatError, match=message):
        load_history(tmp_path, ["saved"])


# ---- a user's CSV recordings ---------------------------------------------------------------


def csv_set(root: Path, rows: list[list[str]]) -> Path:
    folder = root / "mine"
    folder.mkdir()
    with (folder / "markets.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ticker", "event_ticker", "title", "open_time", "close_time", "result"])
        writer.writerow(
            [
                TICKER,
                "KXTEST-26MAR01",
                "Mine",
                "2026-03-01T10:00:00Z",
                "2026-03-01T11:00:00Z",
                "yes",
            ]
        )
    with (folder / "trades.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ticker", "time", "price", "count", "taker_side"])
        writer.writerows(rows)
    return folder


def test_csv_recordings_load(tmp_path: Path) -> None:
    csv_set(
        tmp_path,
        [
            [TICKER, "2026-03-01T10:05:00Z", "0.42", "10", "yes"],
            [TICKER, "2026-03-01T10:06:00Z", "0.0930", "2.50", "no"],
        ],
    )
    history = load_history(tmp_path, ["mine"])
    trades = [e.trade for e in history.events if e.trade is not None]
    assert [(t.yes_price, t.no_price, t.count) for t in trades] == [
        (4200, 5800, 1000),
        (930, 9070, 250),
    ]
    assert trades[1].taker_outcome_side.value == "no"
    assert history.results == {TICKER: MarketResult.YES}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([TICKER, "2026-03-01T10:06:00Z", "forty", "1", "yes"], r"trades\.csv:3: price"),
        ([TICKER, "2026-03-01T10:06:00Z", "1.00", "1", "yes"], r"trades\.csv:3: price/count"),
        ([TICKER, "yesterday", "0.40", "1", "yes"], r"trades\.csv:3: time"),
        (["KXOTHER-1", "2026-03-01T10:06:00Z", "0.40", "1", "yes"], r"trades\.csv:3: ticker"),
        ([TICKER, "2026-03-01T10:06:00Z", "0.40"], r"trades\.csv:3: expected 5 columns"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path: Path, row: list[str], message: str) -> None:
    csv_set(tmp_path, [[TICKER, "2026-03-01T10:05:00Z", "0.42", "10", "yes"], row])
    with pytest.raises(WireFormatError, match=message):
        load_history(tmp_path, ["mine"])


# ---- a user's loader plugin (the example docs/data.md shows) --------------------------------


class TicksLoader:
    """Reads ``ticks.txt``: one ``TICKER RESULT`` line per market, opened for an hour."""

    def recognises(self, folder: Path) -> bool:
        return (folder / "ticks.txt").is_file()

    def load(self, folder: Path) -> RecordedSet:
        markets: list[Market] = []
        results: dict[str, MarketResult] = {}
        for line in (folder / "ticks.txt").read_text().splitlines():
            ticker, result = line.split()
            markets.append(
                as_listed(
                    Market(
                        ticker=ticker,
                        event_ticker=ticker.rsplit("-", 1)[0],
                        status=MarketStatus.FINALIZED,
                        open_time=datetime.fromisoformat("2026-03-01T10:00:00+00:00"),
                        close_time=datetime.fromisoformat("2026-03-01T11:00:00+00:00"),
                    )
                )
            )
            results[ticker] = MarketResult(result)
        return RecordedSet(markets=tuple(markets), results=results)


class TicksPlugin:
    @hookimpl
    def register_history_loaders(self, register: Any) -> None:
        register("ticks", TicksLoader)


def plugin_loaders() -> list[NamedLoader]:
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(TicksPlugin(), "ticks-plugin")
    return loaders_of(collect(manager, "register_history_loaders", "history loader"))


def test_a_plugin_loader_reads_its_own_format_and_is_asked_first(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "ticks.txt").write_text("KXT-1-A yes\nKXT-1-B no\n")
    loaders = plugin_loaders()
    assert loaders[0].name == "ticks"
    history = load_history(tmp_path, ["t"], loaders=loaders)
    assert history.results == {"KXT-1-A": MarketResult.YES, "KXT-1-B": MarketResult.NO}
    with pytest.raises(ConfigError, match=r"'t' not found"):
        load_history(tmp_path, ["t"])  # without the plugin nothing reads ticks.txt


def test_the_built_in_loaders_are_registered_through_the_entry_point() -> None:
    names = [n.name for n in installed_loaders()]
    assert names == ["fixed_point", "documented", "kalshi_api", "csv_trades", "recorded_l2"]
