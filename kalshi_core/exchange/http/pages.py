"""Paging a list endpoint: ``limit`` and ``cursor`` (``""`` on the last page)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import attrs
from starlette.requests import Request

from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.params import query_int

T = TypeVar("T")


@attrs.frozen
class Limits:
    """A list endpoint's ``limit``: default, minimum and maximum (0 means the default)."""

    default: int
    minimum: int
    maximum: int


MARKET_LIMITS = Limits(100, 0, 1000)
EVENT_LIMITS = Limits(200, 1, 200)
PORTFOLIO_LIMITS = Limits(100, 1, 1000)


def _cursor(request: Request, size: int) -> int | None:
    text = request.query_params.get("cursor") or ""
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or int(text) > size:
        raise bad(f"cursor {text[:40]!r} is not one this exchange handed out")
    return int(text)


def paginate(
    items: Sequence[T], request: Request, limits: Limits, *, newest_first: bool = False
) -> tuple[list[T], str]:
    """One page and the next cursor (``""`` on the last page).

    ``items`` are in their append order; a cursor is a position in it, so items added while
    a client pages do not shift the pages it has yet to read.
    """
    limit = query_int(request, "limit", limits.default, limits.minimum, limits.maximum)
    limit = limit or limits.default
    cursor = _cursor(request, len(items))
    if newest_first:
        end = len(items) if cursor is None else cursor
        start = max(0, end - limit)
        return list(reversed(items[start:end])), (str(start) if start > 0 else "")
    start = cursor or 0
    end = start + limit
    return list(items[start:end]), (str(end) if end < len(items) else "")
