"""The recorded trades and the rule, as the benchmark's peers see them (stdlib only).

``peer_nautilus.py`` and ``peer_backtrader.py`` run under the peers' own interpreter (a venv
without kalshi-core); each prints one JSON line: events fed, load and run seconds, orders and
fills. The rule, per market, on every trade: flat and the trade under $0.20, buy 1 YES
(market order); holding and the trade over $0.30, sell it. Prices are YES dollars (cents/100).
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

BUY_BELOW = 0.20
SELL_ABOVE = 0.30


class Trade(NamedTuple):
    ns: int  # since the epoch
    ticker: str
    price: float  # YES, dollars
    count: int
    taker: str  # yes | no


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse(line: str) -> tuple[datetime, Trade]:
    row = json.loads(line)
    moment = when(row["created_time"])
    ns = int(moment.timestamp() * 1_000_000) * 1_000
    return moment, Trade(ns, row["ticker"], row["yes_price"] / 100, row["count"], row["taker_side"])


def load_trades(path: str, start: datetime, end: datetime) -> list[Trade]:
    """The recorded trades in [start, end), in time order (file order within one instant)."""
    with gzip.open(path, "rt") as lines:
        parsed = (parse(line) for line in lines)
        trades = [trade for moment, trade in parsed if start <= moment < end]
    trades.sort(key=lambda t: t.ns)
    return trades


def main(run: Callable[[list[Trade]], dict[str, Any]]) -> None:
    """``python peer_X.py TRADES.jsonl.gz FROM TO``: run the peer, print its JSON line."""
    path, start, end = sys.argv[1:4]
    began = time.perf_counter()
    trades = load_trades(path, when(start), when(end))
    read = time.perf_counter() - began
    result = run(trades)
    result.update(events=len(trades), markets=len({t.ticker for t in trades}), read=read)
    print(json.dumps(result))
