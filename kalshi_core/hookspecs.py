"""Hook specifications: the plugin author's manual.

A plugin is a module (or object) with functions decorated by ``kalshi_core.hookimpl`` whose
names match the specs below. Declare it under the ``kalshi_core`` entry-point group::

    [project.entry-points.kalshi_core]
    my_plugin = "my_package.plugin"

Named things (validators, strategies, ...) are handed over through a ``register`` callback,
``register(name, factory)``; the core calls ``factory(section)`` once at start-up, where
``section`` is the plugin's settings section for that name (``validators.<name>``,
``strategies.<name>``, ...), already validated. The object it returns implements the matching
protocol in :mod:`kalshi_core.protocols`; the hot path calls it directly, never through pluggy.

``startup`` and ``shutdown`` may be ``async def`` (the core awaits them). The ``register_*``
hooks must be plain functions: the registries are filled synchronously at start-up, and an
``async def register_*`` is refused when the plugin loads (it would register nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
import pluggy

if TYPE_CHECKING:
    from kalshi_core.app import App

#: ``register(name, factory)``: what every ``register_*`` hook is handed.
Register = Callable[[str, Callable[..., Any]], None]

hookspec = pluggy.HookspecMarker("kalshi_core")
hookimpl = pluggy.HookimplMarker("kalshi_core")


@hookspec
def register_settings(register: Callable[..., None]) -> None:
    """Contribute default settings and validators for your own settings section.

    Call ``register(section, defaults, validators)``: ``section`` is a dotted path such as
    ``"strategies.my_strategy"``, ``defaults`` a dict merged *under* every user layer, and
    ``validators`` a list of :class:`kalshi_core.settings.Rule` describing each key (type,
    range, allowed values). A bad value then fails start-up with one message naming the key,
    the value, what is allowed and the layer that set it.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``kalshi-core`` command line.

    ``cli`` is the root click group; decorate new commands with ``@cli.command()``.
    """


@hookspec
def register_data_sources(register: Register) -> None:
    """Register market-data sources: ``register(name, factory)``.

    Chosen by ``data.source``. The factory returns an object that lists markets, order books
    and trades (the Kalshi HTTP client, the local exchange, recorded history). The built-in
    ``kalshi-ws`` is a streaming source (books, trades, fills over the WebSocket feed) that
    ``kalshi-core run`` builds when ``run.market_data = "stream"``.
    """


@hookspec
def register_forecasters(register: Register) -> None:
    """Register forecasters: ``register(name, factory)`` returning a
    :class:`~kalshi_core.protocols.Forecaster`. Chosen by ``forecast.models``.
    """


@hookspec
def register_validators(register: Register) -> None:
    """Register validators: ``register(name, factory)`` returning a
    :class:`~kalshi_core.protocols.Validator`. Enabled by ``pipeline.validators``.
    """


@hookspec
def register_strategies(register: Register) -> None:
    """Register strategies: ``register(name, factory)`` returning a
    :class:`~kalshi_core.protocols.Strategy`. Enabled by ``strategies.enabled``.
    """


@hookspec
def register_cache_backends(register: Register) -> None:
    """Register cache backends: ``register(name, factory)`` returning an aiocache cache.
    Chosen by ``cache.backend``.
    """


@hookspec
def register_storage_backends(register: Register) -> None:
    """Register storage backends: ``register(url_scheme, factory)``.

    ``url_scheme`` is the SQLAlchemy drivername the backend serves (``sqlite+aiosqlite``,
    ``postgresql+asyncpg``); the backend for ``database.url`` is picked by that scheme. The
    factory receives the ``database`` settings section and returns a storage backend that
    creates the SQLAlchemy async engine with the dialect's specifics.
    """


@hookspec
def register_alerters(register: Register) -> None:
    """Register alert channels: ``register(name, factory)`` returning a
    :class:`~kalshi_core.protocols.Alerter`. Enabled by ``alerts.channels``.
    """


@hookspec
def register_venues(register: Register) -> None:
    """Register venues, where ``kalshi-core run`` trades: ``register(name, factory)``.

    Chosen by ``run.venue``. ``factory(section, *, app, run)`` returns an async context manager
    yielding a :class:`~kalshi_core.venues.base.VenueRun` (a gateway, the clock the engine
    reads, and how time moves between cycles); ``run`` is a
    :class:`~kalshi_core.venues.base.RunSpec`. Built in: ``paper`` (the local exchange over
    HTTP), ``simulated`` (the same matching venue in-process) and ``kalshi`` (Kalshi over HTTP).
    """


@hookspec
def register_fill_models(register: Register) -> None:
    """Register fill models, how a backtest's replay fills orders: ``register(name, factory)``.

    Chosen by ``exchange.fill_model``. ``factory(section, *, venue, account, tape_account,
    seed)`` returns a :class:`~kalshi_core.exchange.fill_models.FillModel` driving the
    in-process :class:`~kalshi_core.exchange.venue.Venue` (``section`` is
    ``fill_models.<name>``; ``account`` and ``tape_account`` are the two accounts it may
    trade from; ``seed`` makes it deterministic). Its ``describe()`` writes its assumptions
    down for reports. Built in: ``trade_through`` (the default), ``prob_queue``,
    ``l2_replay`` and ``synthetic_book``.
    """


@hookspec
def register_history_loaders(register: Register) -> None:
    """Register readers of recorded-history folders: ``register(name, factory)``.

    ``factory()`` (no arguments) returns a
    :class:`~kalshi_core.exchange.loaders.base.HistoryLoader`: ``recognises(folder)`` says
    whether a data set's folder is in its format, ``load(folder)`` reads it into a
    ``RecordedSet`` (markets as listed, their results kept aside, series, trades, quotes),
    raising WireFormatError naming the file and line of a bad record. A set's folder is read by
    the loader its ``set.json`` names (``"loader": "<name>"``), else by the first loader that
    recognises it; loaders of plugins loaded later are asked first. Built in: ``fixed_point``,
    ``documented``, ``kalshi_api``, ``csv_trades`` and ``recorded_l2`` (docs/data.md).
    """


@hookspec
def startup(app: App) -> Any:
    """Called once when an engine (run, backtest, exchange) starts, after settings are
    validated and every registry is filled. ``app`` is the running application context.
    May be async.
    """


@hookspec
def shutdown(app: App) -> Any:
    """Called once when the engine stops, even after an error. May be async."""
