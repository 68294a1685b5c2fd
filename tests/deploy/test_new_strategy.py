"""`kalshi-core new strategy NAME` writes a plugin package whose own tests pass once installed."""

from __future__ import annotations

import os
import subprocess
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.builtin.new_command import core_range
from kalshi_core.cli import make_cli
from tests.deploy.conftest import REPO, require_e2e


def _new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_cli(App.create()), ["new", "strategy", *args])
    return result.exit_code, result.output


def test_writes_a_package_with_entry_point_and_core_range(tmp_path: Path) -> None:
    code, output = _new("mean_revert", "--directory", str(tmp_path))
    root = tmp_path / "kalshi-mean-revert"
    assert code == 0, output
    assert f"Created {root}" in output
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] == "kalshi-mean-revert"
    assert project["entry-points"]["kalshi_core"] == {"mean_revert": "kalshi_mean_revert.plugin"}
    assert project["dependencies"] == [f"kalshi-core{core_range()}"]
    plugin = (root / "src" / "kalshi_mean_revert" / "plugin.py").read_text()
    assert "class MeanRevert:" in plugin
    assert "$" not in plugin  # every placeholder filled


@pytest.mark.parametrize("name", ["Bad", "1st", "with-dash", "a" * 41, ""])
def test_a_bad_name_is_refused_and_nothing_written(tmp_path: Path, name: str) -> None:
    code, output = _new(name, "--directory", str(tmp_path))
    assert code == 2
    assert "lower-case letters" in output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "kalshi-taken"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep")
    code, output = _new("taken", "--directory", str(tmp_path))
    assert code == 2
    assert "already exists" in output
    assert [p.name for p in existing.iterdir()] == ["mine.txt"]


def test_core_range_covers_this_minor_only() -> None:
    assert core_range("0.1.0") == ">=0.1,<0.2"
    assert core_range("1.4.2") == ">=1.4,<1.5"


@pytest.mark.slow
def test_generated_package_installs_and_its_tests_pass(tmp_path: Path) -> None:
    require_e2e()  # a virtualenv and a wheel build: heavy, so once per CI run, in `tox -e e2e`
    code, output = _new("fresh_edge", "--directory", str(tmp_path))
    assert code == 0, output
    root = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(root)
    python = str(root / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Dependencies (and pytest) come from this interpreter; the two distributions under test
    # are installed by pip into the fresh environment.
    Path(purelib, "_parent_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [python, "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip, str(REPO)], check=True)
    subprocess.run([*pip, str(tmp_path / "kalshi-fresh-edge")], check=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        check=False,
        env=clean,
        cwd=tmp_path / "kalshi-fresh-edge",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


@pytest.mark.parametrize(
    ("name", "taken_by"),
    [
        ("exits", "the strategy 'exits' of the installed plugin 'strategies'"),
        ("directional", "the strategy 'directional' of the installed plugin 'strategies'"),
        ("strategies", "an installed kalshi-core plugin named 'strategies'"),
        ("core", "the installed Python package 'kalshi_core'"),
    ],
)
def test_a_name_already_installed_is_refused_and_nothing_written(
    tmp_path: Path, name: str, taken_by: str
) -> None:
    """A second ``exits`` strategy would make every ``kalshi-core run`` fail with "registered
    twice"; a ``kalshi_core`` package would shadow the framework itself."""
    code, output = _new(name, "--directory", str(tmp_path))
    assert code == 2
    assert f"{name!r} is taken by {taken_by}: choose another NAME" in output
    assert list(tmp_path.iterdir()) == []
