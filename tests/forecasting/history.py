"""Write small data sets in the recorded-history format (markets, trades, quotes)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

START = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)


@attrs.frozen
class FakeMarket:
    """One market: its result and the YES prices (cents) it traded at, one minute apart."""

    ticker: str
    result: str
    prices: Sequence[int] = ()
    quotes: Sequence[tuple[int, int]] = ()
    after_close: Sequence[int] = ()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _write_gz(path: Path, rows: list[dict[str, object]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)


def write_data_set(root: Path, name: str, markets: Sequence[FakeMarket]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    close = START + timedelta(hours=6)
    rows, trades, quotes = [], [], []
    for market in markets:
        rows.append(
            {
                "ticker": market.ticker,
                "event_ticker": market.ticker.rsplit("-", 1)[0],
                "title": f"Test market {market.ticker}?",
                "open_time": _iso(START),
                "close_time": _iso(close),
                "status": "finalized",
                "result": market.result,
            }
        )
        for index, cents in enumerate(market.prices):
            trades.append(_trade(market.ticker, START + timedelta(minutes=index), cents))
        for index, cents in enumerate(market.after_close):
            trades.append(_trade(market.ticker, close + timedelta(minutes=index), cents))
        for index, (bid, ask) in enumerate(market.quotes):
            moment = START + timedelta(minutes=index, seconds=30)
            quotes.append(
                {"ticker": market.ticker, "ts": _iso(moment), "yes_bid": bid, "yes_ask": ask}
            )
    (folder / "markets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _write_gz(folder / "trades.jsonl.gz", sorted(trades, key=lambda t: str(t["created_time"])))
    if quotes:
        _write_gz(folder / "quotes.jsonl.gz", sorted(quotes, key=lambda q: str(q["ts"])))
    return folder


def _trade(ticker: str, moment: datetime, cents: int) -> dict[str, object]:
    return {
        "trade_id": f"{ticker}-{moment.timestamp():.0f}-{cents}",
        "ticker": ticker,
        "created_time": _iso(moment),
        "yes_price": cents,
        "no_price": 100 - cents,
        "count": 1,
        "taker_side": "yes",
    }
