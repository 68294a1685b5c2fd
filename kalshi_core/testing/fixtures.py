"""The fixtures of kalshi-core's pytest plugin (see pytest_plugin.py, which loads this module
once coverage measurement has started)."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.plugins import LOAD_VAR, PluginManager
from kalshi_core.testing.pytest_plugin import AppFactory


def _env_name(key: str) -> str:
    return "KALSHI_" + key.upper().replace(".", "__")


@pytest.fixture
def kalshi_app_factory(monkeypatch: pytest.MonkeyPatch) -> AppFactory:
    """Make an App from built-ins + given plugin objects, with dotted-key setting overrides."""
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)

    def make(*plugins: object, settings: Mapping[str, Any] | None = None) -> App:
        for key, value in (settings or {}).items():
            monkeypatch.setenv(_env_name(key), json.dumps(value))
        monkeypatch.setenv(LOAD_VAR, "builtin")
        manager = PluginManager()
        manager.load_entry_points()
        for index, plugin in enumerate(plugins):
            if manager.pm.is_registered(plugin):  # already loaded as a built-in entry point
                continue
            manager.register(plugin, getattr(plugin, "__name__", f"test_plugin_{index}"))
        return App.create(manager=manager)

    return make


# The async fixtures need pytest-asyncio; without it only the factory above is offered.
if importlib.util.find_spec("pytest_asyncio") is not None:
    from collections.abc import AsyncIterator
    from datetime import UTC, datetime
    from pathlib import Path

    import pytest_asyncio

    from kalshi_core.builtin.sqlite_storage import SCHEME, sqlite_backend
    from kalshi_core.client import KalshiClient, Signer
    from kalshi_core.clock import ManualClock
    from kalshi_core.exchange.local import LocalExchange
    from kalshi_core.exchange.venue import Venue
    from kalshi_core.storage import migrate
    from kalshi_core.storage.database import Database

    @pytest_asyncio.fixture
    async def kalshi_database(tmp_path: Path) -> AsyncIterator[Database]:
        """A migrated SQLite database in the test's temporary directory."""
        url = f"{SCHEME}:///{tmp_path / 'kalshi-test.sqlite3'}"
        database = await Database.open(url, {SCHEME: sqlite_backend}, {}, check=False)
        await migrate.upgrade(database.engine)
        yield database
        await database.close()

    @pytest_asyncio.fixture
    async def kalshi_exchange(tmp_path: Path) -> AsyncIterator[LocalExchange]:
        """The local exchange on a free loopback port, its venue on a manual clock (list the
        markets you need on ``kalshi_exchange.venue``), with a funded dev account."""
        venue = Venue(ManualClock(datetime(2026, 1, 2, 15, tzinfo=UTC)))
        async with LocalExchange.running(venue=venue, key_dir=tmp_path / "keys") as exchange:
            yield exchange

    @pytest_asyncio.fixture
    async def kalshi_client(kalshi_exchange: LocalExchange) -> AsyncIterator[KalshiClient]:
        """The real HTTP client, signed with the dev account's key, pointed at
        ``kalshi_exchange``."""
        signer = Signer.from_file(kalshi_exchange.api_key_id, str(kalshi_exchange.private_key_path))
        async with KalshiClient(kalshi_exchange.base_url, signer=signer) as client:
            yield client
