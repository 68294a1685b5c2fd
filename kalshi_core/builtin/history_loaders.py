"""Built-in history loaders, in the order a folder is offered to them: the fixed-point variant
(``crypto15m_tape``), the documented format, Kalshi API responses saved as JSON, a user's
own trade recordings in CSV, and order-book recordings of ``kalshi-core record``
(docs/data.md)."""

from __future__ import annotations

from typing import Any

from kalshi_core.exchange.loaders.csv_trades import CsvTradesLoader
from kalshi_core.exchange.loaders.documented import DocumentedFormatLoader
from kalshi_core.exchange.loaders.fixed_point import FixedPointLoader
from kalshi_core.exchange.loaders.kalshi_api import KalshiApiLoader
from kalshi_core.exchange.loaders.recorded_l2 import RecordedL2Loader
from kalshi_core.hookspecs import hookimpl


@hookimpl(trylast=True)  # a plugin's loader is offered a folder before the built-ins
def register_history_loaders(register: Any) -> None:
    register("fixed_point", FixedPointLoader)
    register("documented", DocumentedFormatLoader)
    register("kalshi_api", KalshiApiLoader)
    register("csv_trades", CsvTradesLoader)
    register("recorded_l2", RecordedL2Loader)
