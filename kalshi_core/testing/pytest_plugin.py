"""pytest plugin shipped with kalshi-core (entry point ``pytest11``): fixtures for plugin authors.

``kalshi_app_factory`` builds an :class:`~kalshi_core.app.App` with kalshi-core's built-ins plus
the plugin objects you pass, and settings overrides as environment variables would give them::

    def test_my_strategy(kalshi_app_factory):
        app = kalshi_app_factory(my_plugin, settings={"strategies.enabled": ["mine"]})
        strategy = app.build("strategies", "mine")
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.plugins import LOAD_VAR, PluginManager

AppFactory = Callable[..., App]


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
