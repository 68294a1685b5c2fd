"""What a history loader is, what it hands back, and how a data set's folder finds its loader.

A *history loader* (registered through the ``register_history_loaders`` hook) reads one data
set's folder into a :class:`RecordedSet`: the markets as they are listed (initialized, no
result), each market's recorded result kept aside, the series, and the time-ordered trades and
quotes. :func:`choose_loader` picks, for one folder, the loader its ``set.json`` names, else the
first installed loader that recognises it. :func:`installed_loaders` discovers them the way
every plugin is discovered (entry points, ``KALSHI_LOAD_PLUGINS`` / ``KALSHI_DISABLE_PLUGINS``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from kalshi_core.errors import ConfigError, WireFormatError
from kalshi_core.history_format import MarketRecord, Quote, history_lines
from kalshi_core.models import Market, MarketResult, MarketStatus, Series, Trade
from kalshi_core.plugins import PluginManager, collect

__all__ = [
    "SET_INFO_FILE",
    "HistoryLoader",
    "NamedLoader",
    "RecordedSet",
    "SetInfo",
    "as_listed",
    "check_known",
    "check_market",
    "choose_loader",
    "first_record",
    "installed_loaders",
    "read_set_info",
    "series_of",
]

#: Optional per-set metadata file: ``{"loader", "caveats", "outcome_selected",
#: "results_inferred", "sampling"}``.
SET_INFO_FILE = "set.json"


@attrs.frozen(kw_only=True)
class RecordedSet:
    """One data set as read: markets as listed and the records that replay them.

    ``markets`` are initialized and carry no result or settlement value; ``results`` holds each
    market's recorded result. ``trades`` and ``quotes`` are in the file's time order.
    ``caveats`` are what the loader itself learned about the data (skipped records, ...).
    """

    markets: tuple[Market, ...]
    results: Mapping[str, MarketResult]
    series: Mapping[str, Series] = attrs.field(factory=dict)
    trades: tuple[Trade, ...] = ()
    quotes: tuple[Quote, ...] = ()
    caveats: tuple[str, ...] = ()
    #: How each market ended (scalar payout, void, dispute, early close, fee waiver), when the
    #: format records it; a market without one settles on ``results`` alone.
    records: Mapping[str, MarketRecord] = attrs.field(factory=dict)


@runtime_checkable
class HistoryLoader(Protocol):
    """Reads one kind of data set folder."""

    def recognises(self, folder: Path) -> bool:
        """Whether ``folder`` is in this loader's format (cheap: look at names, a first line)."""
        ...

    def load(self, folder: Path) -> RecordedSet:
        """The folder's records; a bad record raises WireFormatError naming file and line."""
        ...


@attrs.frozen
class NamedLoader:
    name: str
    loader: HistoryLoader


@attrs.frozen(kw_only=True)
class SetInfo:
    """A set's ``set.json``: which loader reads it and what a report must say about it."""

    loader: str | None = None
    caveats: tuple[str, ...] = ()
    outcome_selected: bool = False
    results_inferred: bool = False
    sampling: str = ""


_INFO_TYPES: dict[str, tuple[type, str]] = {
    "loader": (str, "a loader name"),
    "caveats": (list, "a list of strings"),
    "outcome_selected": (bool, "true or false"),
    "results_inferred": (bool, "true or false"),
    "sampling": (str, "a string"),
}


def read_set_info(folder: Path) -> SetInfo:
    """The folder's ``set.json`` (all keys optional); defaults when there is none."""
    path = folder / SET_INFO_FILE
    if not path.is_file():
        return SetInfo()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WireFormatError(f"{path}: not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise WireFormatError(f"{path}: expected an object, got {type(record).__name__}")
    for key, value in record.items():
        _check_info_value(path, key, value)
    return SetInfo(**{**record, "caveats": tuple(record.get("caveats", ()))})


def _check_info_value(path: Path, key: str, value: Any) -> None:
    if key not in _INFO_TYPES:
        raise WireFormatError(f"{path}: {key}: unknown key (known: {', '.join(_INFO_TYPES)})")
    kind, expected = _INFO_TYPES[key]
    wrong = not isinstance(value, kind)
    if key == "caveats" and not wrong:
        wrong = not all(isinstance(item, str) for item in value)
    if wrong:
        raise WireFormatError(f"{path}: {key}: expected {expected}, got {value!r}")


def choose_loader(folder: Path, info: SetInfo, loaders: Sequence[NamedLoader]) -> NamedLoader:
    """The loader ``set.json`` names, else the first that recognises ``folder``."""
    names = ", ".join(named.name for named in loaders) or "none"
    if info.loader is not None:
        for named in loaders:
            if named.name == info.loader:
                return named
        raise ConfigError(
            f"{folder / SET_INFO_FILE} names history loader {info.loader!r}, which is not "
            f"installed (installed: {names})"
        )
    for named in loaders:
        if named.loader.recognises(folder):
            return named
    raise ConfigError(
        f"no installed history loader reads {folder} (installed: {names}); see docs/data.md "
        "for the formats and how to add a loader"
    )


def as_listed(market: Market) -> Market:
    """``market`` as it is listed before it trades: initialized, with no result to see."""
    return attrs.evolve(
        market,
        status=MarketStatus.INITIALIZED,
        result=MarketResult.NONE,
        settlement_value=None,
        settlement_ts=None,
        expiration_value="",
    )


def check_known(ticker: str, known: Iterable[str] | set[str], where: str, markets: str) -> None:
    """A record must belong to a market of the same set."""
    if ticker not in known:
        raise WireFormatError(f"{where}: ticker: {ticker} is not in this set's {markets}")


def installed_loaders() -> list[NamedLoader]:
    """Every history loader the installed plugins register, in the order a folder is offered
    to them (see :func:`loaders_of`)."""
    manager = PluginManager()
    manager.load_entry_points()
    return loaders_of(collect(manager, "register_history_loaders", "history loader"))


def loaders_of(registry: Iterable[Any]) -> list[NamedLoader]:
    """Instantiate each registered loader factory (called with no arguments), in pluggy's call
    order: a plugin registered later is asked first, and the built-ins (``trylast``) last, so a
    plugin's loader can claim a folder a built-in would also read. Within one plugin, the order
    of its ``register`` calls."""
    by_plugin: dict[str, list[NamedLoader]] = {}
    for entry in registry:
        by_plugin.setdefault(entry.plugin, []).append(NamedLoader(entry.name, entry.factory()))
    return [named for group in reversed(by_plugin.values()) for named in group]


def check_market(market: Market, seen: Mapping[str, object], where: str) -> None:
    """A market is listed once per set and closes after it opens."""
    if market.ticker in seen:
        raise WireFormatError(f"{where}: ticker: {market.ticker} is listed twice")
    if market.close_time <= market.open_time:
        raise WireFormatError(
            f"{where}: close_time: {market.ticker} closes at {market.close_time}, "
            f"not after its open_time {market.open_time}"
        )


def series_of(markets: Iterable[Market], category: Mapping[str, str]) -> dict[str, Series]:
    """One Series per series ticker, with the category its records gave (``category`` maps a
    market ticker to it)."""
    found: dict[str, Series] = {}
    for market in markets:
        text = category.get(market.ticker, "")
        known = found.get(market.series_ticker)
        if known is None or (text and not known.category):
            found[market.series_ticker] = Series(
                ticker=market.series_ticker, title=market.series_ticker, category=text
            )
    return found


def first_record(path: Path) -> dict[str, Any] | None:
    """The first JSON object of a ``.jsonl`` / ``.jsonl.gz`` file (None if absent, empty or
    not an object): what ``recognises`` looks at. A damaged file (cut short, not gzip) raises
    :class:`WireFormatError` naming it: no loader could read it anyway."""
    if not path.is_file():
        return None
    line = next((text for _, text in history_lines(path) if text.strip()), "")
    try:
        record = json.loads(line) if line else None
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None
