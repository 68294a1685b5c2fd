"""kalshi-plugin-postgres: the PostgreSQL storage backend of kalshi-core (asyncpg + pool)."""

from __future__ import annotations

__version__ = "0.1.0"
