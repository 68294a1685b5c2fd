"""``GET /markets`` from an index: a page costs what it lists, not what the venue holds.

:class:`MarketIndex` keeps the listed tickers in order (and by event and by series), built once
from the venue and then kept up to date from its change notifications: a market is never
delisted, so a ``MarketChanged`` for a ticker not yet seen is the only change it needs.
:func:`market_page` starts after the cursor's ticker and builds the live report of one market
at a time until the page is full; the filters are applied to those live reports, so a status
that changed since the index was built is always seen as it is now. Paging is the keyset paging
of :mod:`.pages` (same cursor, same order, same ``""`` on the last page).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange.changes import Change, MarketChanged
from kalshi_core.exchange.http.pages import Limits, Listing, decode_cursor, encode_cursor
from kalshi_core.exchange.http.params import query_csv, query_int
from kalshi_core.exchange.http.shapes import market_json
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import Market

Predicate = Callable[[Market], bool]


class MarketIndex:
    """The venue's tickers in sorted order, overall, per event and per series."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.tickers: list[str] = []
        self._by_event: dict[str, list[str]] = {}
        self._by_series: dict[str, list[str]] = {}
        self._known: set[str] = set()
        self._encoded: dict[str, tuple[Market, bytes]] = {}
        venue.listeners.append(self.changed)  # first, so no market listed meanwhile is missed
        for market in venue.markets():
            self._add(market)

    def changed(self, change: Change) -> None:
        """The venue's listener: a newly listed market joins the index."""
        if isinstance(change, MarketChanged) and change.market.ticker not in self._known:
            self._add(change.market)

    def _add(self, market: Market) -> None:
        if market.ticker in self._known:
            return
        self._known.add(market.ticker)
        bisect.insort(self.tickers, market.ticker)
        bisect.insort(self._by_event.setdefault(market.event_ticker, []), market.ticker)
        bisect.insort(self._by_series.setdefault(market.series_ticker, []), market.ticker)

    def encoded(self, market: Market) -> bytes:
        """``market``'s JSON, encoded again only when its report changed (an idle market's
        report compares equal to the last one, which is far cheaper than shaping it)."""
        made = self._encoded.get(market.ticker)
        if made is not None and made[0] == market:
            return made[1]
        data = _dumps(market_json(market))
        self._encoded[market.ticker] = (market, data)
        return data

    def candidates(self, request: Request) -> Sequence[str]:
        """Sorted tickers that may match the query's event, series and ticker filters (the
        filters themselves still decide)."""
        query = request.query_params
        narrowed: list[Sequence[str]] = [self.tickers]
        if query.get("event_ticker"):
            narrowed.append(self._by_event.get(query["event_ticker"], []))
        if query.get("series_ticker"):
            narrowed.append(self._by_series.get(query["series_ticker"], []))
        named = query_csv(request, "tickers")
        if named:
            narrowed.append(sorted(set(named) & self._known))
        return min(narrowed, key=len)


def market_page(
    index: MarketIndex,
    request: Request,
    predicates: Sequence[Predicate],
    limits: Limits,
    listing: Listing[Market],
) -> tuple[list[Market], str]:
    """One page of the markets ``predicates`` keep, and the next cursor (``""`` at the end)."""
    limit = query_int(request, "limit", limits.default, limits.minimum, limits.maximum)
    limit = limit or limits.default
    text = request.query_params.get("cursor") or ""
    tickers = index.candidates(request)
    start = bisect.bisect_right(tickers, str(decode_cursor(listing, text)[0])) if text else 0
    page: list[Market] = []
    for position in range(start, len(tickers)):
        market = index.venue.market(tickers[position])
        if not all(keep(market) for keep in predicates):
            continue
        if len(page) == limit:
            return page, encode_cursor(listing, listing.key(page[-1]))
        page.append(market)
    return page, ""


def _dumps(data: object) -> bytes:
    """JSON as Starlette's ``JSONResponse`` encodes it."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


def listing_response(index: MarketIndex, page: Sequence[Market], cursor: str) -> Response:
    """``{"markets": [...], "cursor": ...}``: the same bytes as ``json_body`` would send."""
    markets = b",".join(index.encoded(market) for market in page)
    body = b'{"markets":[' + markets + b'],"cursor":' + _dumps(cursor) + b"}"
    return Response(body, media_type="application/json")
