"""kalshi-plugin-redis: the Redis cache backend of kalshi-core (shared by every worker)."""

from __future__ import annotations

__version__ = "0.1.0"
