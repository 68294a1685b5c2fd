"""Every `pip install` a user is told to type works as written: nothing of ours is on an index.

Until the distributions are published, kalshi-core and its plugins install from a checkout
(`pip install . ./plugins/kalshi-plugin-postgres`). A line naming `kalshi-core` or a
`kalshi-plugin-*` by its distribution name would fail for every reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kalshi_core.storage.database import PLUGIN_FOR_SCHEME
from tests.deploy.conftest import REPO

PAGES = sorted(
    [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        *REPO.glob("docs/**/*.md"),
        *REPO.glob("plugins/*/README.md"),
        *REPO.glob("examples/*/README.md"),
    ]
)
INSTALL = re.compile(r"pip install ([^`\n&|;#]+)")
OUR_NAMES = re.compile(r"^kalshi[-_](core|plugin)", re.IGNORECASE)
GENERATED = re.compile(r"kalshi-core new strategy (\w+)")


def _targets(arguments: str) -> list[str]:
    """The things pip is asked to install (options and their values dropped)."""
    words = [w.strip("'\"") for w in arguments.split()]
    return [w for w in words if w and not w.startswith("-")]


def _generated(page: str) -> set[str]:
    """Folders that a `kalshi-core new strategy NAME` line on the page creates."""
    return {f"kalshi-{name.replace('_', '-')}" for name in GENERATED.findall(page)}


def _problems(target: str, generated: frozenset[str] | set[str] = frozenset()) -> list[str]:
    local = target.split("[", maxsplit=1)[0]  # `.[dev]`, `./plugins/x[test]`
    if Path(local).parts[:1] and Path(local).parts[0] in generated:
        return []
    if local.startswith((".", "/")) or "/" in local:
        path = REPO / local
        return [] if path.exists() or "*" in local else [f"{target}: no such path in the checkout"]
    if OUR_NAMES.match(local):
        return [f"{target}: not on any index yet; install it from its path"]
    return []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_install_lines_in_the_docs_work_from_a_checkout(page: Path) -> None:
    text = page.read_text()
    problems = [
        f"{page.relative_to(REPO)}: pip install {arguments.strip()} -> {problem}"
        for arguments in INSTALL.findall(text)
        for target in _targets(arguments)
        for problem in _problems(target, _generated(text))
    ]
    assert problems == []


def test_the_missing_backend_hint_names_an_existing_path() -> None:
    for hint in PLUGIN_FOR_SCHEME.values():
        assert _problems(hint) == [], hint


def test_a_distribution_name_of_ours_is_caught() -> None:
    assert _problems("kalshi-plugin-postgres") != []
    assert _problems("./plugins/kalshi-plugin-nowhere") != []
    assert _problems("tox") == []
    assert _problems("./kalshi-my-edge[test]", {"kalshi-my-edge"}) == []
    assert _problems("./kalshi-my-edge[test]") != []
