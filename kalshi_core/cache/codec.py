"""How cached values become text for a shared backend: JSON through the core's converter.

Never pickle: a value read back from Redis is data, not code, and a wrong shape fails as a
:class:`~kalshi_core.errors.WireFormatError` naming the cache entry. Attrs models go through
a copy of :data:`kalshi_core.wire.converter` (the Kalshi wire format: dollars as strings,
RFC3339 times) that also writes the datetimes of fields without wire metadata
(``Forecast.created_time``) as RFC3339 text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.models import OrderBook
from kalshi_core.wire import (
    converter,
    format_time,
    orderbook_from_wire,
    orderbook_to_wire,
    parse_time,
)

T = TypeVar("T")

cache_converter = converter.copy()
cache_converter.register_unstructure_hook(datetime, format_time)
cache_converter.register_structure_hook(datetime, lambda value, _: parse_time(value))


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


@attrs.frozen
class Codec(Generic[T]):
    """Turns one kind of value into JSON text and back."""

    encode: Callable[[T], Any]
    decode: Callable[[Any], T]

    def dumps(self, value: T) -> str:
        return dumps(self.encode(value))

    def loads(self, text: str | bytes, where: str) -> T:
        try:
            return self.decode(json.loads(text))
        except WireFormatError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise WireFormatError(f"cache entry {where}: {exc}") from exc


def model_codec(cls: type[T]) -> Codec[T]:
    """An attrs model, through the cache converter."""

    def decode(data: Any) -> T:
        try:
            return cache_converter.structure(data, cls)
        except Exception as exc:
            raise WireFormatError(f"cache {cls.__name__}: {exc}") from exc

    return Codec(encode=cache_converter.unstructure, decode=decode)


def list_codec(cls: type[T]) -> Codec[list[T]]:
    """A list of one attrs model."""
    one = model_codec(cls)

    def decode(data: Any) -> list[T]:
        if not isinstance(data, list):
            raise WireFormatError(f"cache entry for list[{cls.__name__}]: expected an array")
        return [one.decode(item) for item in data]

    return Codec(encode=lambda items: [one.encode(item) for item in items], decode=decode)


def _book_to_json(book: OrderBook) -> dict[str, Any]:
    return {"ticker": book.ticker, **orderbook_to_wire(book)}


def _book_from_json(data: Any) -> OrderBook:
    if not isinstance(data, dict) or not isinstance(data.get("ticker"), str):
        raise WireFormatError("cache entry for OrderBook: expected an object with a ticker")
    return orderbook_from_wire(data["ticker"], data, where="cache OrderBook")


BOOK_CODEC: Codec[OrderBook] = Codec(encode=_book_to_json, decode=_book_from_json)
