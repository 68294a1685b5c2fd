"""Checks of a settings file before Dynaconf reads it.

Dynaconf silently skips what it does not understand: a file not named ``*.toml``, a top-level
table that is not an environment (``[risk]`` is taken for an environment called "risk" and
never applied) and keys outside every section. A limit the user believes is set would then
not apply, so each of these is refused here with one line naming the file and the fix; a file
that is not UTF-8 or not valid TOML is refused the same way instead of with a traceback.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from kalshi_core.errors import ConfigError

SUFFIX = ".toml"


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file, or a one-line :class:`ConfigError` naming it and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        bad = error.object[error.start : error.start + 1].hex()
        raise ConfigError(
            f"{path}: not valid TOML: not UTF-8 text (byte 0x{bad} at offset {error.start})"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def check_settings_file(path: Path, sections: Collection[str]) -> None:
    """Refuse ``path`` unless it is a ``*.toml`` file of valid TOML whose top level holds
    only environment ``sections`` (``[default]``, ``[production]``...), each a table."""
    if path.suffix.lower() != SUFFIX:
        raise ConfigError(
            f"{path}: settings files are TOML and their name must end in {SUFFIX} "
            "(any other file is not read)"
        )
    data = read_toml(path)
    for name, value in data.items():
        _check_section(path, name, value, sections)


def _check_section(path: Path, name: str, value: Any, sections: Collection[str]) -> None:
    listed = ", ".join(f"[{s}]" for s in sections)
    if name.lower() not in sections:
        kind = "table" if isinstance(value, Mapping) else "key"
        example = f"[default.{name}]" if isinstance(value, Mapping) else f"{name} under [default]"
        raise ConfigError(
            f"{path}: top-level {kind} {name!r} is not an environment section and would be "
            f"ignored: settings go inside one of {listed} (write {example})"
        )
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: {name} must be a table ([{name}]), not a single value")
