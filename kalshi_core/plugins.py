"""The plugin manager: entry-point discovery (group ``kalshi_core``) and named registries.

Built-in plugins are entry points of the ``kalshi-core`` distribution itself, loaded the same
way a third party's are. ``KALSHI_DISABLE_PLUGINS=a,b`` or the setting ``plugins.disabled``
skips plugins by entry-point name; ``KALSHI_LOAD_PLUGINS=a,b`` loads only those (the value
``builtin`` means the ones shipped with kalshi-core), which keeps installed third-party
plugins out of the core's own test-suite.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

import attrs
import pluggy
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from kalshi_core import __version__, hookspecs
from kalshi_core.errors import PluginError

GROUP = "kalshi_core"
CORE_DISTRIBUTION = "kalshi-core"
DISABLE_VAR = "KALSHI_DISABLE_PLUGINS"
LOAD_VAR = "KALSHI_LOAD_PLUGINS"

log = logging.getLogger(__name__)
T = TypeVar("T")


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the rest of kalshi-core carries on without it."""


class PluginVersionWarning(UserWarning):
    """A plugin declares support for other kalshi-core versions than the one installed."""


@attrs.frozen
class PluginInfo:
    """One discovered plugin and what became of it."""

    name: str
    distribution: str
    version: str
    status: str  # enabled | disabled | failed
    hooks: tuple[str, ...] = ()
    error: str = ""

    @property
    def builtin(self) -> bool:
        return self.distribution == CORE_DISTRIBUTION


def names_from_env(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    return (dist.name, dist.version) if dist is not None else ("unknown", "")


def _is_selected(ep: EntryPoint, load_only: set[str]) -> bool:
    if not load_only:
        return True
    builtin = "builtin" in load_only and _distribution(ep)[0] == CORE_DISTRIBUTION
    return builtin or ep.name in load_only


def supported_core(ep: EntryPoint) -> SpecifierSet | None:
    """The kalshi-core versions the plugin's distribution declares it supports."""
    for line in (ep.dist.requires or []) if ep.dist is not None else []:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == CORE_DISTRIBUTION and not requirement.marker:
            return requirement.specifier
    return None


def _warn_if_core_unsupported(ep: EntryPoint) -> None:
    """Warn (not fail) when a plugin pins a kalshi-core range this version is outside of."""
    if _distribution(ep)[0] == CORE_DISTRIBUTION:
        return
    supported = supported_core(ep)
    if supported is not None and not supported.contains(__version__, prereleases=True):
        message = (
            f"plugin {ep.name!r} from distribution {_distribution(ep)[0]!r} supports "
            f"kalshi-core {supported}, but this is kalshi-core {__version__}"
        )
        warnings.warn(message, PluginVersionWarning, stacklevel=3)


class PluginManager:
    """pluggy's manager plus what the ``plugins`` command reports."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def load_entry_points(self, disabled: Iterable[str] = ()) -> None:
        """Discover and register every selected entry point; a broken one only warns."""
        skip = set(disabled) | names_from_env(DISABLE_VAR)
        load_only = names_from_env(LOAD_VAR)
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            if not _is_selected(ep, load_only):
                continue
            if ep.name in skip:
                self._record(ep, "disabled")
            else:
                self._load(ep)

    def _load(self, ep: EntryPoint) -> None:
        try:
            module = ep.load()
            self.pm.register(module, name=ep.name)
            self.pm.check_pending()
            _refuse_async_registration(self.pm, ep.name)
        except Exception as exc:  # any import failure must not crash the CLI
            self._unregister_quietly(ep.name)
            dist = _distribution(ep)[0]
            message = f"plugin {ep.name!r} from distribution {dist!r} failed to load: {exc}"
            warnings.warn(message, PluginLoadWarning, stacklevel=2)
            self._record(ep, "failed", error=str(exc))
            return
        self._record(ep, "enabled", hooks=self._hooks_of(ep.name))
        _warn_if_core_unsupported(ep)

    def _unregister_quietly(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)

    def register(self, plugin: object, name: str, *, distribution: str = "<local>") -> None:
        """Register a plugin object directly (tests, embedding applications)."""
        self.pm.register(plugin, name=name)
        self.pm.check_pending()
        try:
            _refuse_async_registration(self.pm, name)
        except PluginError:
            self._unregister_quietly(name)
            raise
        self.infos[name] = PluginInfo(name, distribution, "", "enabled", self._hooks_of(name))

    def _hooks_of(self, name: str) -> tuple[str, ...]:
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) if plugin is not None else None
        return tuple(sorted(caller.name for caller in callers or []))

    def _record(self, ep: EntryPoint, status: str, **extra: Any) -> None:
        dist, version = _distribution(ep)
        self.infos[ep.name] = PluginInfo(ep.name, dist, version, status, **extra)

    def plugins(self) -> list[PluginInfo]:
        return sorted(self.infos.values(), key=lambda i: (not i.builtin, i.name))


@attrs.frozen
class Registered(Generic[T]):
    name: str
    factory: Callable[..., T]
    plugin: str


class Registry(Generic[T]):
    """Named factories of one kind (validators, strategies, ...) gathered from one hook."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Registered[T]] = {}

    def add(self, name: str, factory: Callable[..., T], plugin: str) -> None:
        existing = self._entries.get(name)
        if existing is not None:
            raise PluginError(
                f"{self.kind} {name!r} is registered twice: by plugin {existing.plugin!r} "
                f"and by plugin {plugin!r}; disable one of them (plugins.disabled)"
            )
        self._entries[name] = Registered(name, factory, plugin)

    def get(self, name: str) -> Registered[T]:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise PluginError(
                f"no {self.kind} named {name!r} is installed (installed: {known})"
            ) from None

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        return self.get(name).factory(*args, **kwargs)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Registered[T]]:
        return iter(self._entries.values())


def _refuse_async_registration(pm: pluggy.PluginManager, name: str) -> None:
    """An ``async def register_*`` would hand back a coroutine and register nothing: refuse it
    when the plugin loads, naming the hook."""
    plugin = pm.get_plugin(name)
    for caller in pm.get_hookcallers(plugin) or []:
        for impl in caller.get_hookimpls():
            asynchronous = inspect.iscoroutinefunction(impl.function)
            if impl.plugin is plugin and caller.name.startswith("register_") and asynchronous:
                raise PluginError(
                    f"plugin {name!r}: {caller.name} is async; register_* hooks must be plain "
                    "functions (only startup and shutdown may be async)"
                )


def collect(manager: PluginManager, hook_name: str, kind: str) -> Registry[Any]:
    """Call a ``register_*`` hook on every plugin, remembering which plugin gave what."""
    registry: Registry[Any] = Registry(kind)
    hook = getattr(manager.hook, hook_name)
    for impl in hook.get_hookimpls():
        plugin_name = manager.pm.get_name(impl.plugin) or "?"

        def register(name: str, factory: Callable[..., Any], _plugin: str = plugin_name) -> None:
            registry.add(name, factory, _plugin)

        impl.function(register=register)
    return registry
