"""Repositories: the only code that writes SQL. Domain objects in, domain objects out."""

from __future__ import annotations

from kalshi_core.storage.repositories.decisions import (
    DecisionFacts,
    Decisions,
    Forecasts,
    MarketSnapshots,
    RunDecisions,
)
from kalshi_core.storage.repositories.leases import MarketLeases
from kalshi_core.storage.repositories.ledger import (
    AiSpends,
    AuditEvents,
    DailyPnls,
    Positions,
    Settlements,
)
from kalshi_core.storage.repositories.orders import Fills, Orders
from kalshi_core.storage.repositories.runs import Runs

__all__ = [
    "AiSpends",
    "AuditEvents",
    "DailyPnls",
    "DecisionFacts",
    "Decisions",
    "Fills",
    "Forecasts",
    "MarketLeases",
    "MarketSnapshots",
    "Orders",
    "Positions",
    "RunDecisions",
    "Runs",
    "Settlements",
]
