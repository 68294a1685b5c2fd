"""The local exchange's HTTP face, one module per section of Kalshi's Trade API v2.

``app`` (the ASGI wrapper and the route table), ``auth`` (key registry and signature check,
shared with the WebSocket feed), ``context``, ``errors``, ``params`` (bounded query, body and
number parsing), ``pages`` (keyset cursors), ``shapes`` (JSON bodies), and one module per
group of routes: ``markets``, ``candles``, ``portfolio``, ``orders``.

This package imports nothing from :mod:`kalshi_core.exchange.websocket` except in ``app``, so
the feed can import ``auth`` and ``errors`` without a cycle.
"""
