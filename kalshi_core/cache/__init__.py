"""Caching and shared state: aiocache backends as plugins (``memory`` built in, Redis from
kalshi-plugin-redis), cache-aside wrappers for the venue's market data and for forecasters,
and the counters a metrics exporter reads. See docs/cache.md.

Import from the submodules: :mod:`.store` (``SharedCache``), :mod:`.gateway`
(``CachingGateway``), :mod:`.forecaster` (``CachingForecaster``), :mod:`.wiring`
(``build_cache``, ``wrap_engine_parts``).
"""
