"""What a shared cache backend hands back is data, not trusted objects: every wrong shape read
from it is a WireFormatError naming the entry, and a good entry round-trips exactly."""

from __future__ import annotations

import pytest

from kalshi_core.cache.codec import BOOK_CODEC, list_codec, model_codec
from kalshi_core.errors import WireFormatError
from kalshi_core.models import Balance, OrderBook, PriceLevel

BOOK = OrderBook(ticker="KXT-26-A", yes=(PriceLevel(price=4213, count=550),))


def test_a_book_round_trips_to_the_same_value() -> None:
    text = BOOK_CODEC.dumps(BOOK)
    assert '"0.4213"' in text  # money as the wire's exact decimal text, never a float
    assert BOOK_CODEC.loads(text, "book:KXT-26-A") == BOOK


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"ticker":"KXT-26-A","orderbook_fp":{"yes_dollars":[["0.42', "book:X"),  # cut short
        ("[1, 2]", "expected an object with a ticker"),
        ('{"ticker": 7, "orderbook_fp": {}}', "expected an object with a ticker"),
        (b"\xff\xfe not utf-8", "book:X"),
    ],
)
def test_a_broken_book_entry_is_a_wire_format_error(text: str | bytes, says: str) -> None:
    with pytest.raises(WireFormatError, match=says):
        BOOK_CODEC.loads(text, "book:X")


def test_a_model_entry_of_the_wrong_shape_names_the_model() -> None:
    codec = model_codec(Balance)
    assert codec.loads(codec.dumps(Balance(balance=1_230_000)), "balance").balance == 1_230_000
    with pytest.raises(WireFormatError, match="Balance"):
        codec.loads('{"balance": "lots"}', "balance")
    with pytest.raises(WireFormatError, match="cache entry balance"):
        codec.loads("not json", "balance")


def test_a_list_entry_must_be_an_array_of_good_items() -> None:
    codec = list_codec(Balance)
    good = [Balance(balance=100), Balance(balance=200, portfolio_value=300)]
    assert codec.loads(codec.dumps(good), "balances") == good
    with pytest.raises(WireFormatError, match=r"list\[Balance\]: expected an array"):
        codec.loads('{"balance": 1}', "balances")
    with pytest.raises(WireFormatError, match="Balance"):
        codec.loads('[{"balance": 1}, {"balance": null}]', "balances")
