"""Lists in settings *replace*, tables *merge*.

Dynaconf's ``merge_enabled`` merges tables (so ``KALSHI_RISK__MAX_POSITION_PCT`` keeps the other
``risk`` keys) but also appends lists, which would make ``strategies.enabled = ["market_maker"]``
mean "the defaults plus market_maker" and leave no way to drop a default. After loading, the
last layer that wrote each list is found again and its list is put back in place, recorded in
the settings history under that layer.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dynaconf.loaders.base import SourceMetadata
from dynaconf.utils.parse_conf import parse_conf_data

from kalshi_core.errors import ConfigError

IGNORED_VARIABLES = {"ENV", "SETTINGS_FILE", "DISABLE_PLUGINS", "LOAD_PLUGINS"}


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        path = f"{prefix}{key}".lower()
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{path}.")
        else:
            yield path, value


# The fix-up is recorded under loader names of its own ("toml_list", "env_list"): the history
# is keyed by source, and reusing the original loader's key would overwrite its entry.


def list_keys(table: Mapping[str, Any]) -> set[str]:
    """Dotted keys whose loaded value is a list."""
    return {key for key, value in _flatten(table) if isinstance(value, list)}


def _file_lists(
    path: Path, environment: str, lists: set[str]
) -> Iterator[tuple[str, Any, SourceMetadata]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in ("default", environment):
        for key, value in _flatten(data.get(section, {})):
            if isinstance(value, list) or key in lists:
                yield key, value, SourceMetadata("toml_list", str(path), section)


def _env_lists(prefix: str, lists: set[str]) -> Iterator[tuple[str, Any, SourceMetadata]]:
    for name, raw in sorted(os.environ.items()):
        key = name.removeprefix(f"{prefix}_")
        if key == name or key in IGNORED_VARIABLES:
            continue
        value = parse_conf_data(raw, tomlfy=True)
        if isinstance(value, list) or key.lower().replace("__", ".") in lists:
            yield (
                key.lower().replace("__", "."),
                value,
                SourceMetadata("env_list", prefix, "global"),
            )


def last_lists(
    files: Sequence[Path], environment: str, prefix: str, lists: set[str] | None = None
) -> dict[str, tuple[Any, SourceMetadata]]:
    """For every list-valued key (and every key in ``lists``), the last layer's value."""
    known = lists or set()
    found: dict[str, tuple[Any, SourceMetadata]] = {}
    for path in files:
        for key, value, source in _file_lists(path, environment, known):
            found[key] = (value, source)
    for key, value, source in _env_lists(prefix, known):
        found[key] = (value, source)
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _plain(v) for k, v in value.items()}
    return copy.deepcopy(value)


def replace_lists(
    settings: Any,
    files: Sequence[Path],
    environment: str,
    prefix: str,
    lists: set[str] | None = None,
) -> None:
    """Put each list back as its last layer wrote it (tables stay merged). ``lists``: the
    keys whose defaults are lists, put back whatever a layer wrote to them."""
    for key, (value, source) in last_lists(files, environment, prefix, lists).items():
        top, _, rest = key.partition(".")
        if not rest:
            settings.set(top, value, merge=False, loader_identifier=source)
            continue
        table = _plain(settings.get(top, {}))
        node = table
        for part in rest.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[rest.split(".")[-1]] = value
        settings.set(top, table, merge=False, loader_identifier=source)


def override(settings: Any, key: str, value: Any, source: str) -> None:
    """Set the dotted ``key`` to ``value`` as a layer named ``source`` (``--set``): a list
    replaces the one beneath, a table merges, and the history names ``source``."""
    top, _, rest = key.lower().partition(".")
    if not rest:
        settings.set(top, _plain(value), merge=False, loader_identifier=source)
        return
    table = _plain(settings.get(top, {}))
    node = table
    for part in rest.split(".")[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: {key} cannot be set: {part} is not a table")
        node = child
    node[rest.split(".")[-1]] = _plain(value)
    settings.set(top, table, merge=False, loader_identifier=source)
