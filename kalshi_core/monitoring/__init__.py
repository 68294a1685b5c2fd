"""Monitoring: Prometheus metrics, health endpoints, structured logs, anomalies, graded stops.

See docs/monitoring.md. Everything here listens to :mod:`kalshi_core.signals`; nothing in the
trading loop calls it. Import the submodules (``kalshi_core.monitoring.session`` for
:func:`monitor_session`, ``.stops`` for :class:`StopController`, ...): this package imports
nothing itself, so the CLI can read its logging helpers without loading the web stack.
"""
