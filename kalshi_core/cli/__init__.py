"""The ``kalshi-core`` command line: a click group that plugins extend.

Every sub-command, the built-in ones included, is added through the ``register_commands``
hook. ``--settings`` and ``--env`` are read before plugins load, because settings decide
which plugins load.
"""

from __future__ import annotations

import logging
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import click

from kalshi_core import __version__
from kalshi_core.app import App
from kalshi_core.errors import KalshiCoreError
from kalshi_core.monitoring.logs import FORMATS as LOG_FORMATS
from kalshi_core.monitoring.logs import configure_logging as configure_log_format
from kalshi_core.plugins import PluginLoadWarning, PluginVersionWarning

EXIT_CONFIG = 2


class UserError(click.ClickException):
    """Bad input (settings, data files, options): ``Error: ...`` on one line, exit status 2,
    as every kalshi-core command reports its user's mistakes."""

    exit_code = EXIT_CONFIG


class FiniteFloat(click.FloatRange):
    """A float option in a range that also refuses ``nan`` and ``inf``: click's FloatRange lets
    ``nan`` through every bound (no comparison with it is true) and ``inf`` through an open
    upper end."""

    name = "finite float"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number: float = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def current_app() -> App:
    """The :class:`App` of the running command (for plugin commands)."""
    app = click.get_current_context().find_object(App)
    if app is None:
        raise click.UsageError("kalshi-core commands must run under the kalshi-core group")
    return app


def make_cli(app: App) -> click.Group:
    """A fresh root group with every plugin's commands added."""

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--settings", "settings_file", metavar="PATH", help="Your settings file.")
    @click.option("--env", metavar="NAME", help="development, staging or production.")
    @click.version_option(__version__, prog_name="kalshi-core")
    @click.pass_context
    def cli(ctx: click.Context, settings_file: str | None, env: str | None) -> None:
        """kalshi-core: AI-assisted trading on Kalshi, built from plugins."""
        ctx.obj = app

    app.manager.hook.register_commands(cli=cli)
    return cli


GROUP_OPTIONS_WITH_VALUES = ("--settings", "--env")


def _early_option(args: Sequence[str], name: str) -> str | None:
    """Value of ``--name VALUE`` or ``--name=VALUE``, before or after the sub-command (``run``
    accepts ``--settings`` and ``--env`` too): settings decide which plugins load, so they are
    read before click parses anything."""
    rest = list(args)
    while rest:
        option, _, inline = rest.pop(0).partition("=")
        if option == "--":
            return None
        if option in GROUP_OPTIONS_WITH_VALUES:
            value = inline if inline else (rest.pop(0) if rest else None)
            if option == name:
                return value
    return None


def settings_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--settings``/``--env`` on a sub-command, for ``kalshi-core run --env production``.

    Their values were applied at start-up (see :func:`_early_option`); here they only need to
    be accepted.
    """
    command = click.option("--env", "_env", metavar="NAME", help="As the global --env.")(command)
    return click.option(
        "--settings", "_settings", metavar="PATH", help="As the global --settings."
    )(command)


NOISY_LOGGERS = ("httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access", "aiosqlite")


def configure_logging(app: App) -> None:
    """Log to stderr at ``logging.level`` in ``logging.format`` (text or json; an invalid value
    is reported by ``config validate``)."""
    level = str(app.settings.get("logging.level", "INFO")).upper()
    fmt = str(app.settings.get("logging.format", "text"))
    configure_log_format(level, fmt if fmt in LOG_FORMATS else "text")  # logging.format: json
    for chatty in NOISY_LOGGERS:  # one line per HTTP request would drown the summary
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # Alembic says "Context impl SQLiteImpl." on every database opened: only when debugging.
    logging.getLogger("alembic").setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)


def show_plugin_warnings_plainly() -> None:
    """A plugin warning on the terminal is its message alone: Python's default adds the file
    and source line that raised it (``self._load(ep)``), which tells a user nothing."""
    default = warnings.formatwarning
    if getattr(default, "kalshi_core", False):
        return  # already installed (main() called again in one process)

    def format_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        line: str | None = None,
    ) -> str:
        if issubclass(category, (PluginLoadWarning, PluginVersionWarning)):
            return f"Warning: {message}\n"
        return default(message, category, filename, lineno, line)

    format_warning.kalshi_core = True  # type: ignore[attr-defined]
    warnings.formatwarning = format_warning


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    show_plugin_warnings_plainly()
    try:
        app = App.create(
            settings_file=_early_option(args, "--settings"), env=_early_option(args, "--env")
        )
        configure_logging(app)
        cli = make_cli(app)
    except KalshiCoreError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    cli.main(args=args, prog_name="kalshi-core")
