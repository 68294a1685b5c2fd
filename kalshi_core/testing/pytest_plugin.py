"""pytest plugin shipped with kalshi-core (entry point ``pytest11``): fixtures for plugin authors.

Fixtures: ``kalshi_app_factory`` (below), and with pytest-asyncio installed ``kalshi_exchange``
(the local exchange on a free loopback port), ``kalshi_client`` (the real HTTP client, signed,
pointed at it) and ``kalshi_database`` (a migrated SQLite database).

``kalshi_app_factory`` builds an :class:`~kalshi_core.app.App` with kalshi-core's built-ins plus
the plugin objects you pass, and settings overrides as environment variables would give them::

    def test_my_strategy(kalshi_app_factory):
        app = kalshi_app_factory(my_plugin, settings={"strategies.enabled": ["mine"]})
        strategy = app.build("strategies", "mine")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kalshi_core.app import App

AppFactory = Callable[..., "App"]


# pytest imports this module (entry point pytest11) before `pytest --cov` starts measuring, so
# the fixtures, and the kalshi_core modules they import, load here, after start-up: imported
# with this module they would hide the module bodies of most of kalshi_core from coverage and
# slow every pytest start-up where kalshi-core is installed.
def pytest_configure(config: pytest.Config) -> None:
    """Register kalshi-core's fixtures (kalshi_core.testing.fixtures)."""
    config.pluginmanager.import_plugin("kalshi_core.testing.fixtures")
