"""Storage: SQLAlchemy 2.0 async models, repositories, migrations and backends.

Open a :class:`~kalshi_core.storage.database.Database` with the ``database`` settings; use
its repositories (``db.orders``, ``db.decisions``, ...), which take and return the domain
objects of :mod:`kalshi_core.models`.
"""

from __future__ import annotations
