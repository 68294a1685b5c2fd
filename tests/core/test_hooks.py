"""Each registration hook, implemented by a plugin object, reaches its registry and is built
with its own settings section."""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.exchange.loaders.base import HistoryLoader, loaders_of
from kalshi_core.hookspecs import hookimpl
from kalshi_core.plugins import PluginManager
from kalshi_core.settings_rules import Rule

# registry kind, hook, section the factory receives
KINDS = [
    ("data_sources", "register_data_sources", "feed"),
    ("forecasters", "register_forecasters", "forecasters.thing"),
    ("validators", "register_validators", "validators.thing"),
    ("strategies", "register_strategies", "strategies.thing"),
    ("cache_backends", "register_cache_backends", "cache"),  # shared by every backend
    ("alerters", "register_alerters", "alerters.thing"),
]


class _Everything:
    """Registers one ``thing`` through every named-thing hook."""

    @hookimpl
    def register_settings(self, register: Any) -> None:
        for _, _, section in KINDS:
            register(section, {"marker": section}, [Rule(key=f"{section}.marker", types=(str,))])

    def _register(self, register: Any, name: str = "thing") -> None:
        register(name, lambda section, **runtime: {"section": section, "runtime": runtime})

    @hookimpl
    def register_data_sources(self, register: Any) -> None:
        self._register(register, "feed")

    @hookimpl
    def register_forecasters(self, register: Any) -> None:
        self._register(register)

    @hookimpl
    def register_validators(self, register: Any) -> None:
        self._register(register)

    @hookimpl
    def register_strategies(self, register: Any) -> None:
        self._register(register)

    @hookimpl
    def register_cache_backends(self, register: Any) -> None:
        self._register(register)

    @hookimpl
    def register_alerters(self, register: Any) -> None:
        self._register(register)


@pytest.fixture
def app() -> App:
    manager = PluginManager()
    manager.register(_Everything(), "everything")
    return App.create(manager=manager)


@pytest.mark.parametrize(("kind", "hook", "section"), KINDS)
def test_registration_hook_feeds_its_registry(app: App, kind: str, hook: str, section: str) -> None:
    name = "feed" if kind == "data_sources" else "thing"
    registered = app.registry(kind).get(name)
    assert registered.plugin == "everything"
    built = app.build(kind, name, extra=1)
    assert built["section"]["marker"] == section
    assert built["runtime"] == {"extra": 1}
    assert hook in {
        caller.name
        for caller in app.manager.pm.get_hookcallers(app.manager.pm.get_plugin("everything")) or []
    }


async def test_builtin_memory_cache_backend_stores_and_expires_nothing_early() -> None:
    app = App.create()
    cache = app.registry("cache_backends").create("memory", {"ttl_seconds": 30})
    await cache.set("market", {"ticker": "KXTEST"})
    assert await cache.get("market") == {"ticker": "KXTEST"}
    assert await cache.get("missing") is None


class _Loaders:
    """A plugin's history loader, registered through ``register_history_loaders``."""

    @hookimpl
    def register_history_loaders(self, register: Any) -> None:
        register("mine", _NothingLoader)


class _NothingLoader:
    def recognises(self, folder: Any) -> bool:
        return False

    def load(self, folder: Any) -> Any:
        raise AssertionError("never asked: it recognises nothing")


def test_register_history_loaders_feeds_the_history_loader_registry() -> None:
    manager = PluginManager()
    manager.register(_Loaders(), "loaders")
    registry = App.create(manager=manager).registry("history_loaders")
    assert registry.get("mine").plugin == "loaders"
    (named,) = loaders_of(registry)
    assert named.name == "mine"
    assert isinstance(named.loader, HistoryLoader)
