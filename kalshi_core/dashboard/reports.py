"""Backtest reports under ``dashboard.reports_dir``: one folder per run, as ``kalshi-core
backtest --output DIR`` writes them (``results.json`` and ``report.html``).

A report is named by its folder's name, which must be a plain name (letters, digits, ``.``,
``_``, ``-``; no separator, no ``..``) and resolve to a folder directly inside the reports
folder: a name that reaches anywhere else is refused before any file is opened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.backtest import html_report
from kalshi_core.backtest.compare import RESULTS_FILE, Row, compare_rows, load_results
from kalshi_core.backtest.results import dollars
from kalshi_core.errors import ConfigError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: Resamples for a comparison's paired intervals in the dashboard (the CLI's default is larger;
#: a page should open in a moment).
COMPARE_RESAMPLES = 500


class ReportNotFound(Exception):
    """A name that is not a report: its message says why (never the folder's full path)."""


@attrs.frozen(kw_only=True)
class ReportLine:
    name: str
    run_id: str
    window: str
    net_pnl: str
    fills: str


def report_dir(root: Path, name: str) -> Path:
    """The folder of report ``name`` inside ``root``, or :class:`ReportNotFound`."""
    if not NAME.fullmatch(name) or name in {".", ".."}:
        raise ReportNotFound(f"{name!r} is not a report name")
    base = root.resolve()
    folder = (base / name).resolve()
    if folder.parent != base or not (folder / RESULTS_FILE).is_file():
        raise ReportNotFound(f"no report {name!r}")
    return folder


def load(root: Path, name: str) -> dict[str, Any]:
    try:
        return load_results(report_dir(root, name))
    except ConfigError as error:
        raise ReportNotFound(f"report {name!r} cannot be read: {_short(error)}") from None


def _short(error: Exception) -> str:
    return str(error).rsplit(": ", 1)[-1]


def listing(root: Path) -> list[ReportLine]:
    """Every readable report under ``root``, newest folder first; unreadable ones are skipped."""
    if not root.is_dir():
        return []
    found = []
    folders = [f for f in root.iterdir() if f.is_dir() and NAME.fullmatch(f.name)]
    for folder in sorted(folders, key=lambda f: (-f.stat().st_mtime, f.name)):
        try:
            found.append(_line(folder.name, load(root, folder.name)))
        except (ReportNotFound, KeyError, TypeError):
            continue
    return found


def _line(name: str, results: dict[str, Any]) -> ReportLine:
    run = results.get("run", {})
    window = f"{str(run.get('from') or '-')[:16]} .. {str(run.get('to') or '-')[:16]}"
    pnl = results.get("pnl", {}).get("net")
    fills = results.get("session", {}).get("fills_stored")
    return ReportLine(
        name=name,
        run_id=str(run.get("run_id", name)),
        window=window.replace("T", " "),
        net_pnl="-" if pnl is None else dollars(int(pnl)),
        fills="-" if fills is None else str(fills),
    )


def report_page(root: Path, name: str) -> str:
    """The run's report, rendered from its ``results.json`` (never a file served as is)."""
    return html_report.render(load(root, name))


def comparison(root: Path, a: str, b: str) -> list[Row]:
    return compare_rows(load(root, a), load(root, b), resamples=COMPARE_RESAMPLES)
