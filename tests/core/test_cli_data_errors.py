"""A damaged data file through the real CLI: ``Error: <file>[:line]: ...`` on one line and exit
status 2, from every command that reads history (never ``Aborted!`` or a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli
from tests.replay.test_damaged_files import cut_in_half, garbage
from tests.replay.test_loaders import fixed_point_set

COMMANDS = [
    ["run", "--data", "{root}"],
    ["fit", "--data", "{root}", "--output", "{root}/curve.json"],
    ["exchange", "serve", "--data", "{root}", "--port", "0"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize(
    ("file", "damage", "message"),
    [
        ("trades.jsonl.gz", cut_in_half, ":1: the file ends early"),
        ("trades.jsonl.gz", garbage, ": not a gzip file"),
        ("quotes.jsonl.gz", cut_in_half, ":1: the file ends early"),
        ("quotes.jsonl.gz", garbage, ": not a gzip file"),
    ],
)
def test_a_damaged_data_file_is_one_error_line_and_exit_2(
    tmp_path: Path, command: list[str], file: str, damage: object, message: str
) -> None:
    root = tmp_path / "data"
    folder = fixed_point_set(root)
    damage(folder / file)  # type: ignore[operator]
    args = [arg.format(root=root) for arg in command]
    result = CliRunner().invoke(make_cli(App.create()), args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"Error: {folder / file}{message}"), result.stderr
    assert "Aborted!" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["run"], ["exchange", "serve", "--port", "0"]])
def test_a_data_folder_without_data_sets_says_what_a_data_set_is(
    tmp_path: Path, command: list[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(make_cli(App.create()), [*command, "--data", str(empty)])
    assert result.exit_code == 2, result.output
    assert f"Error: {empty} holds no data sets: a data set is a folder inside it" in (result.stderr)
    assert "markets.jsonl" in result.stderr
    assert "docs/data.md" in result.stderr
    assert "exchange.data_sets" not in result.stderr  # not the settings key it never read


def test_a_data_folder_that_is_one_data_set_says_how_to_name_it(tmp_path: Path) -> None:
    folder = fixed_point_set(tmp_path / "data")
    result = CliRunner().invoke(make_cli(App.create()), ["run", "--data", str(folder)])
    assert result.exit_code == 2, result.output
    assert f"use --data {folder.parent} --data-set {folder.name}" in result.stderr
