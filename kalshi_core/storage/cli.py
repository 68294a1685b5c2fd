"""``kalshi-core db ...``: schema migrations and exports, from the command line.

The built-in ``db_command`` plugin calls :func:`add_db_commands` with the root group, a function
returning the settings (a Dynaconf object, or anything whose ``database`` section is a mapping)
and one returning the installed storage backends by URL scheme.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core.errors import KalshiCoreError
from kalshi_core.storage import migrate
from kalshi_core.storage.database import BackendFactory, open_engine, ping
from kalshi_core.storage.export import FORMATS, ExportFormat, export_table
from kalshi_core.storage.schema import TABLE_NAMES
from kalshi_core.storage.settings import SECTION, section_get

T = TypeVar("T")


def database_section(settings: Any) -> Mapping[str, Any]:
    """``settings.database`` from a Dynaconf object, or ``settings["database"]``."""
    section = getattr(settings, SECTION, None)
    if section is None and isinstance(settings, Mapping):
        section = settings.get(SECTION)
    return section if section is not None else {}


async def _with_engine(
    get_settings: Callable[[], Any],
    get_backends: Callable[[], Mapping[str, BackendFactory]],
    work: Callable[[AsyncEngine], Awaitable[T]],
) -> T:
    section = database_section(get_settings())
    engine = open_engine(section_get(section, "url"), get_backends(), section)
    try:
        await ping(engine)
        return await work(engine)
    finally:
        await engine.dispose()


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a kalshi-core error becomes a one-line message and exit status 1."""
    try:
        return asyncio.run(work)
    except KalshiCoreError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


def add_db_commands(
    cli: click.Group,
    get_settings: Callable[[], Any],
    get_backends: Callable[[], Mapping[str, BackendFactory]],
) -> click.Group:
    """Add the ``db`` group (upgrade, downgrade, current, history, export) to ``cli``."""

    def run(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
        return _run(_with_engine(get_settings, get_backends, work))

    @cli.group("db")
    def db() -> None:
        """Database schema and data."""

    _add_migration_commands(db, run)
    _add_export(db, run)
    return db


def _add_migration_commands(
    db: click.Group, run: Callable[[Callable[[AsyncEngine], Any]], Any]
) -> None:
    @db.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Migrate the database schema up to REVISION (default: the newest)."""
        run(lambda engine: migrate.upgrade(engine, revision))
        click.echo(f"database upgraded to {revision}")

    @db.command("downgrade")
    @click.argument("revision")
    def downgrade(revision: str) -> None:
        """Migrate the database schema down to REVISION (``base`` drops every table)."""
        run(lambda engine: migrate.downgrade(engine, revision))
        click.echo(f"database downgraded to {revision}")

    @db.command("stamp")
    @click.argument("revision", default="head")
    def stamp(revision: str) -> None:
        """Record REVISION as the schema revision without migrating (lost alembic_version)."""
        run(lambda engine: migrate.stamp(engine, revision))
        click.echo(f"database stamped at {revision}")

    @db.command("current")
    def current() -> None:
        """Show the database's schema revision and the one this version needs."""
        found = run(migrate.current)
        click.echo(f"current: {found or 'none'}  (this version needs {migrate.head_revision()})")

    @db.command("history")
    def history() -> None:
        """List the schema revisions, newest first."""
        for line in migrate.history():
            click.echo(line)


def _add_export(db: click.Group, run: Callable[[Callable[[AsyncEngine], Any]], Any]) -> None:
    @db.command("export")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True)
    @click.option("--table", "table", type=click.Choice(TABLE_NAMES), required=True)
    @click.option(
        "--output",
        "output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("-"),
        help="file to write; '-' (default) is standard output",
    )
    def export(fmt: ExportFormat, table: str, output: Path) -> None:
        """Export one table as JSON Lines or CSV (money in fixed-point integer units)."""
        if str(output) == "-":
            count = run(lambda engine: export_table(engine, table, fmt, sys.stdout))
        else:
            with _open_output(output) as out:
                count = run(lambda engine: export_table(engine, table, fmt, out))
        click.echo(f"exported {count} rows from {table}", err=True)


def _open_output(output: Path) -> TextIO:
    """``--output`` opened for writing; a missing folder or a refused write is a usage error
    naming it, before the database is touched."""
    folder = output.parent
    if not folder.is_dir():
        raise click.BadParameter(
            f"cannot write {output}: the folder {folder} does not exist", param_hint="--output"
        )
    try:
        return output.open("w", encoding="utf-8", newline="")
    except OSError as error:
        reason = error.strerror or error
        raise click.BadParameter(
            f"cannot write {output}: {reason}", param_hint="--output"
        ) from None
