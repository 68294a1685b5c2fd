"""The benchmark's rule in nautilus_trader 1.231 (see ``peer_trades.py``; benchmark-only).

One ``BinaryOption`` (price precision 2) per market, the trades as ``TradeTick`` data, a
``Strategy`` acting on every tick with market orders, matched on the L1 book the engine builds
from the trades. Logging is bypassed.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType, AggressorSide, AssetClass, OmsType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import BinaryOption
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy
from peer_trades import BUY_BELOW, SELL_ABOVE, Trade, main

VENUE = Venue("KALSHI")
SIDES = {"yes": AggressorSide.BUYER, "no": AggressorSide.SELLER}


class Threshold(Strategy):  # type: ignore[misc]
    def __init__(self, instruments: list[InstrumentId]) -> None:
        super().__init__(StrategyConfig(strategy_id="THRESHOLD-001"))
        self.instruments = instruments
        self.one = Quantity.from_int(1)

    def on_start(self) -> None:
        for instrument_id in self.instruments:
            self.subscribe_trade_ticks(instrument_id)

    def on_trade_tick(self, tick: TradeTick) -> None:
        price, instrument_id = tick.price.as_double(), tick.instrument_id
        if price < BUY_BELOW and self.portfolio.is_flat(instrument_id):
            side = OrderSide.BUY
        elif price > SELL_ABOVE and self.portfolio.is_net_long(instrument_id):
            side = OrderSide.SELL
        else:
            return
        self.submit_order(self.order_factory.market(instrument_id, side, self.one))


def instrument(ticker: str, first: int, last: int) -> BinaryOption:
    return BinaryOption(
        InstrumentId(Symbol(ticker), VENUE), Symbol(ticker), AssetClass.ALTERNATIVE, USD,
        2, 0, Price.from_str("0.01"), Quantity.from_int(1), first, last + 1, first, first,
        maker_fee=Decimal(0), taker_fee=Decimal(0), outcome="Yes",
    )  # fmt: skip


def tick(n: int, trade: Trade) -> TradeTick:
    return TradeTick(
        InstrumentId(Symbol(trade.ticker), VENUE), Price(trade.price, 2),
        Quantity.from_int(trade.count), SIDES[trade.taker], TradeId(str(n)), trade.ns, trade.ns,
    )  # fmt: skip


def run(trades: list[Trade]) -> dict[str, Any]:
    started = time.perf_counter()
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(VENUE, OmsType.NETTING, AccountType.CASH, [Money(1_000_000, USD)], USD)
    tickers = sorted({t.ticker for t in trades})
    for ticker in tickers:
        engine.add_instrument(instrument(ticker, trades[0].ns, trades[-1].ns))
    engine.add_data([tick(n, trade) for n, trade in enumerate(trades)])
    engine.add_strategy(Threshold([InstrumentId(Symbol(t), VENUE) for t in tickers]))
    loaded = time.perf_counter()
    engine.run()
    finished = time.perf_counter()
    orders = engine.cache.orders()
    fills = sum(len(order.trade_ids) for order in orders)
    engine.dispose()
    return {
        "load": loaded - started,
        "run": finished - loaded,
        "orders": len(orders),
        "fills": fills,
    }


if __name__ == "__main__":
    main(run)
