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


@pytest.mark.slow
def test_the_strategy_tutorials_step_4_runs(tmp_path: Path) -> None:
    blocks = _blocks(DOCS / "tutorials" / "strategy-plugin.md")
    package = tmp_path / "kalshi_my_edge"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(
        blocks["kalshi-my-edge/src/kalshi_my_edge/plugin.py (step 4)"]
    )
    (tmp_path / "test_close.py").write_text(blocks["kalshi-my-edge/tests/test_close.py"])
    result = _run_pytest(tmp_path, "test_close.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


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
