"""What the venue keeps of its executions, kept cheap to write and built when read.

The matching path appends one plain tuple per fill or print; the frozen
:class:`~kalshi_core.models.Fill` and :class:`~kalshi_core.models.Trade` records are built
from them the first time someone reads them, and kept, so each is built once. A tuple holds
only atoms (strings, ints, bools, a datetime; a side as a bool, since an Enum member is a
tracked object), so the cyclic collector stops tracking it and a long run's records cost it
nothing.
"""

from __future__ import annotations

from datetime import datetime

from kalshi_core.models import BookSide, Fill, Side, Trade
from kalshi_core.money import DOLLAR, Count, Money, Price

#: (fill id, order id, ticker, is a bid, count, yes price, is taker, fee, time, client id)
FillRow = tuple[str, str, str, bool, Count, Price, bool, Money, datetime, str]
#: (trade id, ticker, count, yes price, the taker is a bid, time)
TradeRow = tuple[str, str, Count, Price, bool, datetime]


def fill_of(row: FillRow) -> Fill:
    fill_id, order_id, ticker, is_bid, count, price, is_taker, fee, time, client_id = row
    return Fill(
        fill_id=fill_id,
        order_id=order_id,
        ticker=ticker,
        outcome_side=Side.YES if is_bid else Side.NO,
        book_side=BookSide.BID if is_bid else BookSide.ASK,
        count=count,
        yes_price=price,
        no_price=DOLLAR - price,
        is_taker=is_taker,
        fee_cost=fee,
        created_time=time,
        client_order_id=client_id,
    )


def trade_of(row: TradeRow) -> Trade:
    trade_id, ticker, count, price, is_bid, time = row
    return Trade(
        trade_id=trade_id,
        ticker=ticker,
        count=count,
        yes_price=price,
        no_price=DOLLAR - price,
        taker_outcome_side=Side.YES if is_bid else Side.NO,
        taker_book_side=BookSide.BID if is_bid else BookSide.ASK,
        created_time=time,
    )


class FillLog:
    """One account's fills, oldest first: rows until read, then :class:`Fill` records."""

    __slots__ = ("_built", "_rows")

    def __init__(self) -> None:
        self._rows: list[FillRow] = []
        self._built: list[Fill] = []

    def append(self, row: FillRow) -> None:
        self._rows.append(row)

    def __len__(self) -> int:
        return len(self._built) + len(self._rows)

    def records(self) -> list[Fill]:
        """Every fill, oldest first (the log's own list: do not change it)."""
        if self._rows:
            self._built.extend(map(fill_of, self._rows))
            self._rows.clear()
        return self._built


class Tape:
    """One market's prints, oldest first: the venue's own as rows until read, outside prints
    (whole :class:`Trade` records, which may carry more) as given."""

    __slots__ = ("_built", "_rows")

    def __init__(self) -> None:
        self._rows: list[TradeRow] = []
        self._built: list[Trade] = []

    def append_row(self, row: TradeRow) -> None:
        self._rows.append(row)

    def append(self, trade: Trade) -> None:
        self.records().append(trade)

    def __len__(self) -> int:
        return len(self._built) + len(self._rows)

    def records(self) -> list[Trade]:
        """Every print, oldest first (the tape's own list: do not change it)."""
        if self._rows:
            self._built.extend(map(trade_of, self._rows))
            self._rows.clear()
        return self._built
