"""Built-in command group ``kalshi-core db``: migrations (upgrade, downgrade, current,
history) and exports, on whichever storage backend ``database.url`` names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from kalshi_core.cli import current_app
from kalshi_core.hookspecs import hookimpl
from kalshi_core.storage.cli import add_db_commands
from kalshi_core.storage.database import BackendFactory


def _settings() -> Any:
    return current_app().settings


def _backends() -> Mapping[str, BackendFactory]:
    return {entry.name: entry.factory for entry in current_app().registry("storage_backends")}


@hookimpl
def register_commands(cli: click.Group) -> None:
    add_db_commands(cli, _settings, _backends)
