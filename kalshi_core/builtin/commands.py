"""Built-in commands: ``version``, ``plugins``, ``config show|validate|path``."""

from __future__ import annotations

import json
import platform
from typing import Any

import attrs
import click

from kalshi_core import __version__
from kalshi_core.cli import EXIT_CONFIG, current_app
from kalshi_core.hookspecs import hookimpl
from kalshi_core.plugins import PluginInfo
from kalshi_core.settings import (
    as_plain_dict,
    packaged_settings_path,
    secrets_paths,
)
from kalshi_core.storage.settings import default_database_path


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(version)
    cli.add_command(plugins)
    cli.add_command(config)


@click.command()
def version() -> None:
    """Print kalshi-core's version and Python's."""
    click.echo(f"kalshi-core {__version__} (Python {platform.python_version()})")


PLUGIN_COLUMNS = ("name", "version", "status", "distribution", "hooks")


def _plugin_row(info: PluginInfo) -> tuple[str, ...]:
    origin = "built-in" if info.builtin else info.distribution
    return (info.name, info.version, info.status, origin, ", ".join(info.hooks) or "-")


def plugin_table(infos: list[PluginInfo]) -> list[str]:
    """The ``plugins`` table: each column as wide as its longest cell, so a long plugin or
    distribution name never pushes its row out of line; a failed plugin's error under it."""
    rows = [PLUGIN_COLUMNS, *(_plugin_row(info) for info in infos)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(PLUGIN_COLUMNS) - 1)]
    errors = [None, *(info.error for info in infos)]
    lines = []
    for row, error in zip(rows, errors, strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append(" ".join([*cells, row[-1]]))
        if error:
            lines.append(f"    error: {error}")
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List plugins: name, version, status, distribution and the hooks each implements."""
    infos = current_app().manager.plugins()
    if as_json:
        click.echo(json.dumps([attrs.asdict(i) for i in infos], indent=2))
        return
    for line in plugin_table(infos):
        click.echo(line)


@click.group()
def config() -> None:
    """Show, check and locate settings."""


def _show_toml_like(data: dict[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for key in sorted(data):
        value = data[key]
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            lines.extend(_show_toml_like(value, f"{path}."))
        else:
            lines.append(f"{path} = {json.dumps(value)}{_note(path, value)}")
    return lines


def _note(path: str, value: Any) -> str:
    """A TOML comment for a value whose meaning is not the value itself: an empty
    ``database.url`` is the SQLite file in the user data directory."""
    if path == "database.url" and value == "":
        return f"  # default: {default_database_path()} (in the user data directory)"
    return ""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def config_show(as_json: bool) -> None:
    """Print the effective settings (secrets masked)."""
    app = current_app()
    data = as_plain_dict(app.settings, app.rules)
    click.echo(f"# environment: {app.settings.current_env.lower()}", err=True)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo("\n".join(_show_toml_like(data)))


@config.command("validate")
@click.option("--strict", is_flag=True, help="Unknown keys (typos) are errors, as in production.")
def config_validate(strict: bool) -> None:
    """Check every setting; exit non-zero naming each bad value and the layer that set it."""
    app = current_app()
    strict = strict or app.strict_by_default()
    if not strict:
        for unknown in app.unknown_settings():
            click.echo(f"warning: {unknown}", err=True)
    problems = app.problems(strict=strict)
    if not problems:
        click.echo("settings are valid")
        return
    for problem in problems:
        click.echo(f"invalid setting: {problem}", err=True)
    raise SystemExit(EXIT_CONFIG)


@config.command("path")
def config_path() -> None:
    """Show the settings files in the order they are layered, and whether each exists."""
    user_file = current_app().settings_file
    rows = [("embedded defaults", packaged_settings_path())]
    rows += [("your settings (--settings)", user_file)] if user_file else []
    rows += [("secrets", path) for path in secrets_paths(user_file)]
    for label, path in rows:
        state = "found" if path.is_file() else "absent"
        click.echo(f"{label:<28} {path} ({state})")
    click.echo("environment variables        KALSHI_* (nested with __), KALSHI_ENV")
