"""kalshi-core's pytest plugin loads without importing kalshi_core's modules.

pytest imports entry-point plugins (pytest11) before `pytest --cov` starts measuring, so a
plugin module importing kalshi_core at load time hides those modules' bodies from the coverage
gate (tox -e py311) and slows every pytest start-up where kalshi-core is installed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from kalshi_core.testing import fixtures

PROBE = """
import sys
import kalshi_core.testing.pytest_plugin as plugin
loaded = sorted(name for name in sys.modules if name.startswith("kalshi_core"))
print(",".join(loaded))
print(plugin.AppFactory)
"""


def test_plugin_module_imports_no_kalshi_core_module_but_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded, factory = done.stdout.splitlines()
    assert set(loaded.split(",")) <= {
        "kalshi_core",
        "kalshi_core.hookspecs",
        "kalshi_core.testing",
        "kalshi_core.testing.pytest_plugin",
    }
    assert "Callable" in factory


def test_fixtures_are_offered_once_pytest_is_configured(
    pytestconfig: pytest.Config, request: pytest.FixtureRequest
) -> None:
    assert pytestconfig.pluginmanager.is_registered(fixtures)
    assert "kalshi_app_factory" not in request.fixturenames  # not requested, yet resolvable:
    assert callable(request.getfixturevalue("kalshi_app_factory"))
