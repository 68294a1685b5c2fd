"""The benchmark's rule in backtrader (see ``peer_trades.py``; benchmark-only).

One data feed per market, each trade a one-print bar (open = high = low = close = its price),
a ``Strategy`` acting on each market's new print with market orders, which backtrader's broker
fills at that market's next print (an order placed on a market's last print never fills).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import backtrader as bt
from peer_trades import BUY_BELOW, SELL_ABOVE, Trade, main


class TradeFeed(bt.feed.DataBase):  # type: ignore[misc]
    """One market's prints, one bar each."""

    params = (("rows", None),)

    def start(self) -> None:
        super().start()
        self._rows = iter(self.p.rows)

    def _load(self) -> bool:
        trade = next(self._rows, None)
        if trade is None:
            return False
        self.lines.datetime[0] = bt.date2num(datetime.fromtimestamp(trade.ns / 1e9, UTC))
        for line in (self.lines.open, self.lines.high, self.lines.low, self.lines.close):
            line[0] = trade.price
        self.lines.volume[0] = trade.count
        self.lines.openinterest[0] = 0
        return True


class Threshold(bt.Strategy):  # type: ignore[misc]
    def __init__(self) -> None:
        self.seen = {data: 0 for data in self.datas}
        self.pending: dict[Any, Any] = {}  # market -> its order not yet done

    def notify_order(self, order: Any) -> None:
        if order.status not in (order.Submitted, order.Accepted):
            self.pending.pop(order.data, None)

    def next(self) -> None:
        for data in self.datas:
            if len(data) != self.seen[data]:  # a new print in this market at this instant
                self.seen[data] = len(data)
                self.act(data)

    def act(self, data: Any) -> None:
        price, held = data.close[0], self.getposition(data).size
        if data in self.pending:
            return  # its market order fills at the market's next print
        if held == 0 and price < BUY_BELOW:
            self.pending[data] = self.buy(data=data, size=1)
        elif held > 0 and price > SELL_ABOVE:
            self.pending[data] = self.sell(data=data, size=1)


def run(trades: list[Trade]) -> dict[str, Any]:
    started = time.perf_counter()
    by_ticker: defaultdict[str, list[Trade]] = defaultdict(list)
    for trade in trades:
        by_ticker[trade.ticker].append(trade)
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(1_000_000)
    for ticker in sorted(by_ticker):
        cerebro.adddata(TradeFeed(rows=by_ticker[ticker]), name=ticker)
    cerebro.addstrategy(Threshold)
    loaded = time.perf_counter()
    strategy = cerebro.run()[0]
    finished = time.perf_counter()
    last = {order.ref: order for order in strategy._orders}  # each order's last notification
    fills = sum(order.status == order.Completed for order in last.values())
    return {"load": loaded - started, "run": finished - loaded, "orders": len(last), "fills": fills}


if __name__ == "__main__":
    main(run)
