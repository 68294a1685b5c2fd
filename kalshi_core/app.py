"""The application context: plugins loaded, settings layered and checked, registries built.

Every command and engine starts from one :class:`App`; nothing else reads settings files or
discovers plugins.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.core_settings import CORE_RULES
from kalshi_core.errors import ConfigError
from kalshi_core.plugins import PluginManager, Registry, collect
from kalshi_core.settings import (
    Contributions,
    Problem,
    Settings,
    as_plain_dict,
    collect_contributions,
    layer_of,
    load_settings,
    lookup,
    packaged_settings_path,
    user_settings_path,
    validate_settings,
)
from kalshi_core.settings_keys import UnknownKey, known_keys, unknown_keys, unknown_problems
from kalshi_core.settings_rules import Rule

log = logging.getLogger(__name__)

# registry kind -> (hook that fills it, human name, settings key that picks names from it)
REGISTRIES: dict[str, tuple[str, str, str | None]] = {
    "data_sources": ("register_data_sources", "data source", "data.source"),
    "forecasters": ("register_forecasters", "forecaster", "forecast.models"),
    "validators": ("register_validators", "validator", "pipeline.validators"),
    "strategies": ("register_strategies", "strategy", "strategies.enabled"),
    "cache_backends": ("register_cache_backends", "cache backend", "cache.backend"),
    "storage_backends": ("register_storage_backends", "storage backend", None),
    "alerters": ("register_alerters", "alerter", "alerts.channels"),
    "venues": ("register_venues", "venue", "run.venue"),
    "fill_models": ("register_fill_models", "fill model", "exchange.fill_model"),
    "history_loaders": ("register_history_loaders", "history loader", None),
}


# registry kind -> the settings section a named thing's factory receives
SECTIONS = {
    "data_sources": "{name}",  # a data source reads its own top-level section: [kalshi]
    "forecasters": "forecasters.{name}",
    "validators": "validators.{name}",
    "strategies": "strategies.{name}",
    "cache_backends": "cache",  # one shared section: [cache]
    "storage_backends": "database",  # one shared section: [database]
    "alerters": "alerters.{name}",
    "venues": "venues.{name}",
    "fill_models": "fill_models.{name}",
    "history_loaders": "history_loaders.{name}",  # factories take no section: ()
}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _await_all(results: Iterable[Any]) -> None:
    """Hooks may return awaitables (datasette's ``await_me_maybe``): await each of them."""
    pending = [r for r in results if inspect.isawaitable(r)]
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        raise errors[0]


def _settings_registrations(manager: PluginManager) -> list[tuple[str, Any, Any]]:
    found: list[tuple[str, Any, Any]] = []

    def register(section: str, defaults: Any, rules: Iterable[Rule] = ()) -> None:
        found.append((section, defaults, tuple(rules)))

    manager.hook.register_settings(register=register)
    return found


@attrs.define
class App:
    """Plugins + settings + registries for one run of kalshi-core."""

    manager: PluginManager
    settings: Settings
    contributions: Contributions
    settings_file: Path | None = None
    _registries: dict[str, Registry[Any]] = attrs.field(factory=dict)
    _warned_unknown: bool = False  # check() logs unknown keys once

    @classmethod
    def create(
        cls,
        *,
        settings_file: str | os.PathLike[str] | None = None,
        env: str | None = None,
        manager: PluginManager | None = None,
    ) -> App:
        """Load settings, then plugins (honouring ``plugins.disabled``), then settings again
        with the plugins' defaults beneath every layer."""
        bootstrap = load_settings(settings_file=settings_file, env=env)
        if manager is None:
            manager = PluginManager()
            disabled = lookup(bootstrap, "plugins.disabled")  # not a list: reported by problems()
            manager.load_entry_points(disabled=disabled if isinstance(disabled, list) else ())
        contributions = collect_contributions(_settings_registrations(manager))
        settings = load_settings(settings_file=settings_file, env=env, contributions=contributions)
        return cls(manager, settings, contributions, user_settings_path(settings_file))

    @property
    def rules(self) -> tuple[Rule, ...]:
        return CORE_RULES + self.contributions.rules

    def section(self, path: str) -> dict[str, Any]:
        """A settings section as a plain dict (``app.section("validators.market_status")``).

        Prefer this to attribute access: ``settings.validators`` is Dynaconf's own attribute.
        """
        value = lookup(self.settings, path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"settings key {path!r} is a {type(value).__name__}, not a table")
        plain: dict[str, Any] = _plain(value)
        return plain

    def build(self, kind: str, name: str, **runtime: Any) -> Any:
        """Build the named thing of ``kind`` from its factory and its settings section.

        ``runtime`` carries what only the running engine knows (a local exchange's URL, the
        live-trading confirmation); it never comes from settings.
        """
        section = self.section(SECTIONS[kind].format(name=name))
        return self.registry(kind).create(name, section, **runtime)

    def registry(self, kind: str) -> Registry[Any]:
        """The registry of ``kind`` (see :data:`REGISTRIES`), built on first use."""
        if kind not in self._registries:
            hook_name, human, _ = REGISTRIES[kind]
            self._registries[kind] = collect(self.manager, hook_name, human)
        return self._registries[kind]

    def unknown_settings(self) -> list[UnknownKey]:
        """Keys no default or rule knows (typos), each with the closest known key."""
        known = known_keys(
            packaged_settings_path(), self.contributions.defaults, (r.key for r in self.rules)
        )
        effective = as_plain_dict(self.settings, ())
        return unknown_keys(effective, known, lambda key: layer_of(self.settings, key))

    def strict_by_default(self) -> bool:
        """Production refuses unknown keys: a limit that does not apply costs money."""
        return str(self.settings.current_env).lower() == "production"

    def problems(self, *, strict: bool | None = None) -> list[Problem]:
        """Every bad value: rule violations, names no installed plugin provides, and (strict,
        the default in production) unknown keys."""
        problems = validate_settings(self.settings, self.rules)
        if self.strict_by_default() if strict is None else strict:
            problems.extend(unknown_problems(self.unknown_settings()))
        bad_keys = {p.key for p in problems}
        for kind, (_, human, key) in REGISTRIES.items():
            if key is not None and key not in bad_keys:
                problems.extend(self._unknown_names(kind, human, key))
        return problems

    def _unknown_names(self, kind: str, human: str, key: str) -> list[Problem]:
        value = lookup(self.settings, key)
        names = value if isinstance(value, list) else [value]
        registry = self.registry(kind)
        missing = [n for n in names if n not in registry]
        if not missing:
            return []
        allowed = f"an installed {human}'s name ({', '.join(registry.names()) or 'none installed'})"
        what = f"names {', '.join(map(repr, missing))}, which no installed plugin registers"
        return [Problem(key, value, what, allowed, layer_of(self.settings, key))]

    async def startup(self) -> None:
        """Run every plugin's ``startup`` hook (awaiting the async ones)."""
        await _await_all(self.manager.hook.startup(app=self))

    async def shutdown(self) -> None:
        """Run every plugin's ``shutdown`` hook; all run even if one fails (then re-raised)."""
        await _await_all(self.manager.hook.shutdown(app=self))

    def check(self, *, warn_unknown: bool = True) -> None:
        """Raise one :class:`ConfigError` naming every bad value; log unknown keys, once per
        App (a backtest checks before it starts and again as its session starts).
        ``warn_unknown=False``: the caller already warned about these settings."""
        if warn_unknown and not self._warned_unknown and not self.strict_by_default():
            for unknown in self.unknown_settings():
                log.warning("%s", unknown)
        self._warned_unknown = True
        problems = self.problems()
        if problems:
            lines = "\n".join(f"  - {problem}" for problem in problems)
            raise ConfigError(f"invalid settings:\n{lines}")
