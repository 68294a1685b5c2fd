"""The fixtures kalshi-core ships for plugin authors work as documented."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kalshi_core.client import KalshiClient
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Market, MarketStatus
from kalshi_core.settings_rules import Rule
from kalshi_core.storage.database import Database
from kalshi_core.testing.pytest_plugin import AppFactory


class _Plugin:
    @hookimpl
    def register_settings(self, register: Any) -> None:
        rule = Rule(key="strategies.mine.edge", types=(float,))
        register("strategies.mine", {"edge": 0.1}, [rule])

    @hookimpl
    def register_strategies(self, register: Any) -> None:
        register("mine", lambda section: ("built with", section["edge"]))


def test_factory_registers_plugin_objects_and_applies_settings(
    kalshi_app_factory: AppFactory,
) -> None:
    app = kalshi_app_factory(_Plugin(), settings={"strategies.mine.edge": 0.25})
    assert app.build("strategies", "mine") == ("built with", 0.25)
    assert app.problems() == []


async def test_exchange_client_and_database_fixtures_work_together(
    kalshi_exchange: LocalExchange, kalshi_client: KalshiClient, kalshi_database: Database
) -> None:
    now = kalshi_exchange.venue.clock.now()
    kalshi_exchange.venue.list_market(
        Market(
            ticker="KXKIT-26JAN02-A",
            event_ticker="KXKIT-26JAN02",
            status=MarketStatus.ACTIVE,
            open_time=now - timedelta(hours=1),
            close_time=now + timedelta(hours=1),
        )
    )
    markets = [m async for m in kalshi_client.iter_markets(status="open")]
    assert [m.ticker for m in markets] == ["KXKIT-26JAN02-A"]
    assert (await kalshi_client.get_balance()).balance > 0
    await kalshi_database.market_snapshots.record(markets[0], now)
    stored = await kalshi_database.market_snapshots.latest("KXKIT-26JAN02-A")
    assert stored is not None
    assert stored.market == markets[0]
