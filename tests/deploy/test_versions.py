"""The core and its plugins are versioned in step; each plugin supports the core it ships with."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import kalshi_core
from tests.deploy.conftest import REPO

CORE = Version(kalshi_core.__version__)
PLUGINS = sorted(REPO.glob("plugins/*/pyproject.toml"))
#: Distributions that declare which kalshi-core they support: the plugins and the example.
DEPENDENTS = [*PLUGINS, REPO / "examples" / "strategy-plugin" / "pyproject.toml"]


def _project(pyproject: Path) -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(pyproject.read_text())["project"]
    return project


def _core_requirement(pyproject: Path) -> Requirement:
    found = [
        Requirement(line)
        for line in _project(pyproject)["dependencies"]
        if Requirement(line).name == "kalshi-core"
    ]
    assert len(found) == 1, f"{pyproject}: declare kalshi-core exactly once in dependencies"
    return found[0]


def test_there_are_plugins_to_check() -> None:
    assert PLUGINS, "no plugins/*/pyproject.toml found"


@pytest.mark.parametrize("pyproject", PLUGINS, ids=lambda p: p.parent.name)
def test_plugin_version_is_the_core_version(pyproject: Path) -> None:
    assert Version(_project(pyproject)["version"]) == CORE, (
        f"{pyproject.parent.name} is {_project(pyproject)['version']}, the core {CORE}: "
        "bump them together (see CHANGELOG.md)"
    )


@pytest.mark.parametrize("pyproject", DEPENDENTS, ids=lambda p: p.parent.name)
def test_declared_core_range_admits_this_core(pyproject: Path) -> None:
    requirement = _core_requirement(pyproject)
    assert requirement.specifier, f"{pyproject}: kalshi-core needs a version range"
    assert requirement.specifier.contains(CORE, prereleases=True), (
        f"{pyproject.parent.name} supports kalshi-core {requirement.specifier}, not {CORE}"
    )


@pytest.mark.parametrize("pyproject", DEPENDENTS, ids=lambda p: p.parent.name)
def test_declared_core_range_stops_before_the_next_minor(pyproject: Path) -> None:
    # 0.x minors may break plugins: a plugin claims only the minor it was tested with.
    next_minor = Version(f"{CORE.major}.{CORE.minor + 1}")
    assert not _core_requirement(pyproject).specifier.contains(next_minor, prereleases=True)


def test_changelog_has_a_section_for_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(str(CORE))}\]", changelog, re.MULTILINE), (
        f"CHANGELOG.md has no '## [{CORE}]' section"
    )
