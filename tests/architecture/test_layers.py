"""The layering of docs/architecture.md, enforced: strategies, forecasters and the engine see
the domain, never the simulator or the plugins' registration code, directly or through another
module."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import kalshi_core

PACKAGE = Path(kalshi_core.__file__).parent
GUARDED = ("kalshi_core.engine", "kalshi_core.strategies", "kalshi_core.forecasting")
FORBIDDEN = ("kalshi_core.exchange", "kalshi_core.builtin")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every kalshi_core module ``path`` imports at module level or inside functions (type-
    checking-only imports included: they are dependencies of the reader too)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imported(path) if m in modules} for name, path in modules.items()}


def reachable(edges: dict[str, set[str]], start: str) -> dict[str, str]:
    """Modules reachable from ``start``, each with the module that imported it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        current = todo.pop()
        for target in edges.get(current, ()):
            if target not in seen:
                seen[target] = current
                todo.append(target)
    return seen


EDGES = graph()


@pytest.mark.parametrize("module", sorted(m for m in EDGES if m.startswith(GUARDED)))
def test_no_guarded_module_reaches_the_simulator_or_builtins(module: str) -> None:
    via = reachable(EDGES, module)
    bad = sorted(m for m in via if m.startswith(FORBIDDEN))
    assert not bad, f"{module} reaches {bad[0]} (imported by {via[bad[0]]})"


def test_the_check_sees_a_violation() -> None:
    edges = {"kalshi_core.engine.x": {"kalshi_core.y"}, "kalshi_core.y": {"kalshi_core.exchange.z"}}
    assert "kalshi_core.exchange.z" in reachable(edges, "kalshi_core.engine.x")
