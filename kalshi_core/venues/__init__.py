"""Venues: where the engine trades (``kalshi`` live over HTTP, ``paper`` on the local exchange
over HTTP, ``simulated`` in-process), and the one rule that decides when real money is at stake
(:mod:`kalshi_core.venues.guard`)."""
