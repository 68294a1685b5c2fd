"""A user installs the example plugin with pip into a fresh virtualenv and kalshi-core sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "strategy-plugin"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with kalshi-core and the example installed by pip.

    Dependencies come from this interpreter's site-packages through a ``.pth`` file, so the
    test installs only the two distributions under test (no downloads of the whole stack).
    """
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(root)
    python = root / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "_parent_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [str(python), "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip, str(REPO)], check=True)
    subprocess.run([*pip, str(EXAMPLE)], check=True)
    return root


def _plugins(venv_root: Path, **env: str) -> dict[str, dict[str, object]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    result = subprocess.run(
        [str(venv_root / "bin" / "kalshi-core"), "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **env},
    )
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_installed_example_is_listed_with_its_hooks(fresh_venv: Path) -> None:
    rows = _plugins(fresh_venv)
    example = rows["example_strategy"]
    assert example["status"] == "enabled"
    assert example["distribution"] == "kalshi-example-strategy"
    assert set(example["hooks"]) == {
        "register_settings",
        "register_strategies",
        "register_validators",
    }
    assert rows["core_commands"]["status"] == "enabled"


def test_disabling_through_settings_hides_it(fresh_venv: Path, tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[default.plugins]\ndisabled = ["example_strategy"]\n')
    rows = _plugins(fresh_venv, KALSHI_SETTINGS_FILE=str(settings))
    assert rows["example_strategy"]["status"] == "disabled"
    assert rows["example_strategy"]["hooks"] == []


def test_disabling_through_environment_hides_it(fresh_venv: Path) -> None:
    rows = _plugins(fresh_venv, KALSHI_DISABLE_PLUGINS="example_strategy")
    assert rows["example_strategy"]["status"] == "disabled"
