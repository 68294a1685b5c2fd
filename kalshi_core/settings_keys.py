"""Settings keys nobody reads: typos (``risk.max_postion_pct``, ``KALSHI_MODEE``) and sections
of plugins that are not installed.

A key is known when the embedded defaults, a plugin's ``register_settings`` defaults or a
rule names it. Anything else is reported with the closest known key (difflib), as a warning
by default and as an error under ``config validate --strict`` and in production, where a
limit that silently does not apply costs money.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.settings import Problem
from kalshi_core.settings_lists import IGNORED_VARIABLES

# KALSHI_* variables that are not settings: the loader's own switches, and test suites' URLs.
NOT_SETTINGS = {name.lower() for name in IGNORED_VARIABLES}
NOT_SETTINGS_PREFIXES = ("test_",)


@attrs.frozen
class UnknownKey:
    """A key no default or rule knows; ``suggestion`` is the closest known key, if any."""

    key: str
    layer: str
    suggestion: str | None

    def __str__(self) -> str:
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"unknown setting {self.key} (set by {self.layer}){hint}"


def leaf_keys(table: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every non-table value (lists, even of tables, are leaves)."""
    for key, value in table.items():
        path = f"{prefix}{str(key).lower()}"
        if isinstance(value, Mapping) and value:
            yield from leaf_keys(value, f"{path}.")
        else:
            yield path


def known_keys(
    packaged: Path, plugin_defaults: Mapping[str, Any], rules: Iterable[str]
) -> set[str]:
    """Every key the embedded defaults, the plugins' defaults and the rules name."""
    embedded = tomllib.loads(packaged.read_text(encoding="utf-8")).get("default", {})
    return {*leaf_keys(embedded), *leaf_keys(plugin_defaults), *(r.lower() for r in rules)}


def _is_known(key: str, known: set[str]) -> bool:
    if key in known or key in NOT_SETTINGS or key.startswith(NOT_SETTINGS_PREFIXES):
        return True
    parents = key.split(".")
    # inside a setting whose default is an empty table (free-form entries)
    return any(".".join(parents[:n]) in known for n in range(1, len(parents)))


def unknown_keys(
    effective: Mapping[str, Any], known: set[str], layer_of: Callable[[str], str]
) -> list[UnknownKey]:
    """Keys of ``effective`` (the loaded settings as a plain dict) that nobody knows."""
    found = []
    for key in leaf_keys(effective):
        if _is_known(key, known):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        found.append(UnknownKey(key, layer_of(key), close[0] if close else None))
    return found


def unknown_problems(unknown: Iterable[UnknownKey]) -> list[Problem]:
    """Unknown keys worded as :class:`Problem` for strict validation."""
    return [
        Problem(
            u.key,
            None,
            "is not a known setting" + (f" (did you mean {u.suggestion}?)" if u.suggestion else ""),
            "a key of the embedded defaults, of a plugin's defaults or of a rule",
            u.layer,
            secret=True,  # an unknown key's value may well be a secret: never shown
        )
        for u in unknown
    ]
