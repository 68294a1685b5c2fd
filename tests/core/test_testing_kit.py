"""The fixtures kalshi-core ships for plugin authors work as documented."""

from __future__ import annotations

from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule
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
