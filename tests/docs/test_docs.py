"""The documentation cannot drift: generated references, troubleshooting and tutorials."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kalshi_core import docs_reference
from kalshi_core.app import App
from kalshi_core.cli import make_cli
from kalshi_core.storage.schema import Base

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
BLOCK = re.compile(r'```\w+ title="([^"]+)"\n(.*?)\n```', re.DOTALL)
HEADING = re.compile(r"^### `(.+)`$", re.MULTILINE)


def _blocks(page: Path) -> dict[str, str]:
    """Titled code blocks of a page: title -> code (with its final newline)."""
    return {title: code + "\n" for title, code in BLOCK.findall(page.read_text("utf-8"))}


def _static_texts() -> list[str]:
    """Every string and f-string in the package, f-string holes as ``…``."""
    texts = []
    for path in docs_reference.PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant | ast.JoinedStr):
                text = docs_reference._message(node).replace("`", "'")
                texts.append(" ".join(text.split()))
    return texts


def _written_in_code(message: str, texts: list[str]) -> bool:
    pattern = ".*".join(re.escape(part) for part in message.split("…"))
    return any(re.fullmatch(pattern + ".*", text, re.DOTALL) for text in texts)


def _run_pytest(directory: Path, test_file: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(directory)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file]
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, check=False
    )


def test_the_generated_reference_pages_match_the_code() -> None:
    stale = docs_reference.stale(DOCS / "reference", docs_reference.generated_pages())
    assert stale == [], f"{stale}: run python -m kalshi_core.docs_reference"


def test_check_mode_reports_a_stale_page_and_writing_fixes_it(tmp_path: Path) -> None:
    assert docs_reference.main(["--check", str(tmp_path)]) == 1
    assert docs_reference.main([str(tmp_path)]) == 0
    assert docs_reference.main(["--check", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cli.md",
        "errors.md",
        "schema.md",
        "settings.md",
    ]


def test_the_schema_diagram_has_every_table_and_its_foreign_keys() -> None:
    diagram = docs_reference.schema_diagram()
    for table in Base.metadata.tables:
        assert f"    {table} {{" in diagram
    assert 'decisions ||--o{ verdicts : "decision_id"' in diagram


def test_every_troubleshooting_message_is_one_the_code_writes() -> None:
    headings = HEADING.findall((DOCS / "troubleshooting.md").read_text("utf-8"))
    texts = _static_texts()
    assert len(headings) >= 15
    missing = [h for h in headings if not _written_in_code(h, texts)]
    assert missing == [], "troubleshooting.md describes messages the code no longer writes"


def test_a_made_up_message_is_not_found_in_the_code() -> None:
    assert not _written_in_code("the flux capacitor … is out of plutonium", _static_texts())


def test_the_strategy_tutorial_shows_what_new_strategy_writes(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        make_cli(App.create()), ["new", "strategy", "my_edge", "--directory", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    blocks = _blocks(DOCS / "tutorials" / "strategy-plugin.md")
    for name in ("pyproject.toml", "src/kalshi_my_edge/plugin.py", "tests/test_plugin.py"):
        written = (tmp_path / "kalshi-my-edge" / name).read_text("utf-8")
        assert blocks[f"kalshi-my-edge/{name}"] == written, name


def _replace_functions(source: str, replacements: str) -> str:
    """``source`` with each top-level function of ``replacements`` put in place of the one of
    the same ``def`` line (what the tutorial tells its reader to do by hand)."""
    for function in replacements.strip().split("\n\n\n"):
        start = source.index(function.splitlines()[0])
        end = source.find("\n\n\ndef ", start)
        source = source[:start] + function + (source[end:] if end != -1 else "\n")
    return source


def _installed_as_a_distribution(src: Path) -> None:
    """What ``pip install -e`` leaves for kalshi-core to find: the package's metadata with its
    ``kalshi_core`` entry point, beside the package on the path."""
    info = src / "kalshi_my_edge-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kalshi-my-edge\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[kalshi_core]\nmy_edge = kalshi_my_edge.plugin\n")


@pytest.mark.slow
def test_the_strategy_tutorials_step_4_leaves_every_test_green(tmp_path: Path) -> None:
    """Steps 1 to 4 followed literally: generate, replace plugin.py, update the two strategy
    tests, add test_close.py; then the package's whole test suite passes."""
    blocks = _blocks(DOCS / "tutorials" / "strategy-plugin.md")
    result = CliRunner().invoke(
        make_cli(App.create()), ["new", "strategy", "my_edge", "--directory", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    root = tmp_path / "kalshi-my-edge"
    plugin = blocks["kalshi-my-edge/src/kalshi_my_edge/plugin.py (step 4)"]
    (root / "src" / "kalshi_my_edge" / "plugin.py").write_text(plugin)
    tests = root / "tests" / "test_plugin.py"
    updated = blocks["kalshi-my-edge/tests/test_plugin.py (step 4: the two strategy tests)"]
    tests.write_text(_replace_functions(tests.read_text("utf-8"), updated))
    (root / "tests" / "test_close.py").write_text(blocks["kalshi-my-edge/tests/test_close.py"])
    _installed_as_a_distribution(root / "src")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(REPO)]),
        "KALSHI_LOAD_PLUGINS": "builtin,my_edge",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "7 passed" in run.stdout


@pytest.mark.slow
def test_the_validator_tutorials_code_runs() -> None:
    result = _run_pytest(DOCS / "tutorials", "test_stale_quote.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


async def test_the_storage_pages_sql_runs_on_a_migrated_database(kalshi_database: Any) -> None:
    sql_blocks = re.findall(r"```sql\n(.*?)\n```", (DOCS / "storage.md").read_text("utf-8"), re.S)
    assert len(sql_blocks) >= 3
    path = kalshi_database.engine.url.database
    with contextlib.closing(sqlite3.connect(path)) as connection:
        for sql in sql_blocks:
            connection.execute(sql).fetchall()  # an unknown table or column raises here


def test_a_query_naming_a_missing_column_fails(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "empty.sqlite3")) as connection:
        connection.execute("CREATE TABLE fills (fill_id TEXT)")
        with pytest.raises(sqlite3.OperationalError, match="no such column"):
            connection.execute("SELECT yes_price FROM fills").fetchall()
