"""Built-in command ``kalshi-core new strategy NAME``: a pip-installable strategy plugin.

The package it writes has its ``kalshi_core`` entry point, a ``[strategies.NAME]`` settings
section with rules, a strategy, and tests that pass as generated ("my plugin is discovered",
it trades, a bad setting is refused). Templates live in ``kalshi_core/templates/strategy``.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from string import Template

import click
from packaging.version import Version

import kalshi_core
from kalshi_core.app import App
from kalshi_core.cli import EXIT_CONFIG, current_app
from kalshi_core.hookspecs import hookimpl

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: template file -> where it goes in the new package (``{package}`` filled in).
STRATEGY_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "src/{package}/__init__.py",
    "plugin.py.tmpl": "src/{package}/plugin.py",
    "test_plugin.py.tmpl": "tests/test_plugin.py",
}


def core_range(version: str = kalshi_core.__version__) -> str:
    """The core versions a new plugin supports: this minor only (0.x minors may break it)."""
    current = Version(version)
    return f">={current.major}.{current.minor},<{current.major}.{current.minor + 1}"


def template_values(name: str) -> dict[str, str]:
    return {
        "name": name,
        "upper_name": name.upper(),
        "package": f"kalshi_{name}",
        "dist": f"kalshi-{name.replace('_', '-')}",
        "class_name": "".join(part.title() for part in name.split("_")),
        "core_range": core_range(),
    }


def taken_by(name: str, app: App) -> str | None:
    """What already uses ``name`` (None if nothing): a strategy of that name would be
    registered twice, a plugin of that name would clash with the installed one, and a
    ``kalshi_<name>`` package would shadow (or be shadowed by) the installed one."""
    if name in app.registry("strategies"):
        plugin = app.registry("strategies").get(name).plugin
        return f"the strategy {name!r} of the installed plugin {plugin!r}"
    if any(ep.name == name for ep in entry_points(group="kalshi_core")):
        return f"an installed kalshi-core plugin named {name!r}"
    package = template_values(name)["package"]
    if find_spec(package) is not None:
        return f"the installed Python package {package!r}"
    return None


def write_strategy_package(name: str, parent: Path) -> Path:
    """Write the package for strategy ``name`` into a new folder under ``parent``."""
    if not NAME_PATTERN.fullmatch(name):
        raise click.BadParameter(
            f"{name!r}: use lower-case letters, digits and '_', starting with a letter "
            "(at most 40 characters)",
            param_hint="NAME",
        )
    values = template_values(name)
    root = parent / values["dist"]
    if root.exists():
        raise click.BadParameter(f"{root} already exists: choose another NAME or --directory")
    templates = resources.files("kalshi_core") / "templates" / "strategy"
    for source, target in STRATEGY_FILES.items():
        path = root / target.format(package=values["package"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(templates.joinpath(source).read_text()).substitute(values))
    return root


@click.group()
def new() -> None:
    """Start a new plugin package from a template."""


@new.command()
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder in which to create the package's folder.",
)
def strategy(name: str, directory: Path) -> None:
    """Write a pip-installable strategy plugin named NAME, with passing tests."""
    try:
        taken = taken_by(name, current_app()) if NAME_PATTERN.fullmatch(name) else None
        if taken is not None:
            raise click.BadParameter(
                f"{name!r} is taken by {taken}: choose another NAME "
                "(`kalshi-core plugins` lists what is installed)",
                param_hint="NAME",
            )
        root = write_strategy_package(name, directory)
    except click.BadParameter as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"Created {root}")
    click.echo(f"  pip install -e '{root}[test]' && pytest {root}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(new)
