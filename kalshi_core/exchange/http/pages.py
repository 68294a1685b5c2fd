"""Paging a list endpoint with keyset cursors: ``limit`` and an opaque ``cursor``.

Each list has a sort key (a ticker, or a time and an id for newest-first lists). A cursor
encodes the list's name and the key of the last item handed out; the next page is the items
strictly after that key. Items added, removed or changed elsewhere in the list therefore
never shift a page: an item present for the whole walk is seen exactly once, and a cursor
stays valid however the list shrinks. ``cursor`` is ``""`` on the last page.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import attrs
from starlette.requests import Request

from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.params import EPOCH, query_int

T = TypeVar("T")
Key = tuple[int | str, ...]
MAX_CURSOR_CHARS = 512


@attrs.frozen
class Limits:
    """A list endpoint's ``limit``: default, minimum and maximum (0 means the default)."""

    default: int
    minimum: int
    maximum: int


MARKET_LIMITS = Limits(100, 0, 1000)
EVENT_LIMITS = Limits(200, 1, 200)
PORTFOLIO_LIMITS = Limits(100, 1, 1000)


@attrs.frozen
class Listing(Generic[T]):
    """How one list is ordered: its name, its key and the key's field types."""

    name: str
    key: Callable[[T], Key]
    types: tuple[type, ...]
    newest_first: bool = False


def micros(moment: datetime | None) -> int:
    """A sort key for a time (None sorts first)."""
    return (moment - EPOCH) // timedelta(microseconds=1) if moment is not None else -1


def encode_cursor(listing: Listing[Any], key: Key) -> str:
    raw = json.dumps([listing.name, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _fits(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def decode_cursor(listing: Listing[Any], text: str) -> Key:
    """The key a cursor of ``listing`` encodes; 400 for anything this server did not hand out."""
    refused = bad(f"cursor {text[:40]!r} is not one this exchange handed out for {listing.name}")
    if len(text) > MAX_CURSOR_CHARS or not text.isascii():
        raise refused
    try:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise refused from None
    if not isinstance(decoded, list) or len(decoded) != len(listing.types) + 1:
        raise refused
    name, *key = decoded
    if name != listing.name or not all(map(_fits, key, listing.types)):
        raise refused
    return tuple(key)


def paginate(
    items: Sequence[T], request: Request, limits: Limits, listing: Listing[T]
) -> tuple[list[T], str]:
    """One page of ``items`` in the listing's order and the next cursor (``""`` at the end)."""
    limit = query_int(request, "limit", limits.default, limits.minimum, limits.maximum)
    limit = limit or limits.default
    text = request.query_params.get("cursor") or ""
    after = decode_cursor(listing, text) if text else None
    ordered = sorted(items, key=listing.key, reverse=listing.newest_first)
    if after is not None:
        if listing.newest_first:
            ordered = [item for item in ordered if listing.key(item) < after]
        else:
            ordered = [item for item in ordered if listing.key(item) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, encode_cursor(listing, listing.key(page[-1])) if more else ""


def keyset_page(
    keys: Sequence[str],
    request: Request,
    limits: Limits,
    listing: Listing[T],
    take: Callable[[str], T | None],
) -> tuple[list[T], str]:
    """:func:`paginate` over items made one at a time from sorted ``keys`` (``take`` returns
    None for a key the query leaves out), so a page makes only the items up to one past its
    end. ``listing`` must order by the one string key ``keys`` holds."""
    limit = query_int(request, "limit", limits.default, limits.minimum, limits.maximum)
    limit = limit or limits.default
    text = request.query_params.get("cursor") or ""
    start = bisect.bisect_right(keys, str(decode_cursor(listing, text)[0])) if text else 0
    page: list[T] = []
    for position in range(start, len(keys)):
        item = take(keys[position])
        if item is None:
            continue
        if len(page) == limit:
            return page, encode_cursor(listing, listing.key(page[-1]))
        page.append(item)
    return page, ""
