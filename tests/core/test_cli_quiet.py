"""What the installed command prints on stderr besides its own lines: no alembic chatter unless
debug logging is asked for, and a plugin load warning as its message alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _kalshi_core(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh interpreter (logging is configured once per process)."""
    variables = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")},
        "PYTHONPATH": str(REPO),
        "KALSHI_LOAD_PLUGINS": "builtin",
        "KALSHI_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'quiet.sqlite3'}",
        **env,
    }
    code = "import sys; from kalshi_core.cli import main; main(sys.argv[1:])"
    command = [sys.executable, "-c", code, *args]
    return subprocess.run(
        command, cwd=tmp_path, env=variables, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("args", [["db", "upgrade"], ["db", "current"], ["decisions"]])
def test_database_commands_print_no_alembic_lines(tmp_path: Path, args: list[str]) -> None:
    assert _kalshi_core(tmp_path, "db", "upgrade").returncode == 0
    result = _kalshi_core(tmp_path, *args)
    assert "alembic" not in result.stderr, result.stderr


def test_debug_logging_shows_alembic_again(tmp_path: Path) -> None:
    result = _kalshi_core(tmp_path, "db", "upgrade", KALSHI_LOGGING__LEVEL="DEBUG")
    assert result.returncode == 0, result.stderr
    assert "alembic.runtime.migration" in result.stderr


def test_a_plugin_that_fails_to_load_is_one_warning_line(tmp_path: Path) -> None:
    """A distribution whose entry point names a module that is not there, found the way pip
    leaves an installed package: its metadata on the path."""
    info = tmp_path / "site" / "kalshi_plugin_broken-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: kalshi-plugin-broken\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[kalshi_core]\nbroken = no_such_module_here\n")
    result = _kalshi_core(
        tmp_path,
        "version",
        PYTHONPATH=os.pathsep.join([str(tmp_path / "site"), str(REPO)]),
        KALSHI_LOAD_PLUGINS="builtin,broken",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "Warning: plugin 'broken' from distribution 'kalshi-plugin-broken' failed to load: "
        "No module named 'no_such_module_here'"
    ]
