"""Plugin discovery through entry points, disabling, broken plugins, registries."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kalshi_core import hookspecs
from kalshi_core.app import App
from kalshi_core.client import KalshiClient
from kalshi_core.errors import ConfigError, PluginError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.plugins import PluginLoadWarning, PluginManager, PluginVersionWarning

BUILTINS = {
    "calibrated_forecaster",
    "llm_forecaster",
    "statistical_forecasters",
    "core_commands",
    "db_command",
    "exchange_command",
    "history_loaders",
    "kalshi_source",
    "kalshi_ws_source",
    "log_alerter",
    "webhook_alerters",
    "email_alerter",
    "market_validators",
    "new_command",
    "backtest_command",
    "memory_cache",
    "run_command",
    "decisions_command",
    "sweep_commands",
    "sqlite_storage",
    "strategies",
    "validators",
    "venues",
    "fill_models",
    "record_command",
    "dashboard_command",
}


def _install_fake_distribution(
    root: Path, dist: str, entry: str, module_source: str, requires: str = ""
) -> None:
    """A real installed distribution on sys.path: a module plus a .dist-info with entry points."""
    module = entry.split("=")[1].strip()
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    requirement = f"Requires-Dist: {requires}\n" if requires else ""
    metadata = f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n{requirement}"
    (info / "METADATA").write_text(metadata)
    (info / "entry_points.txt").write_text(f"[kalshi_core]\n{entry}\n")


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("KALSHI_LOAD_PLUGINS")
    return root


def _statuses(app: App) -> dict[str, str]:
    return {info.name: info.status for info in app.manager.plugins()}


def test_builtins_are_discovered_through_entry_points_with_their_hooks() -> None:
    infos = {info.name: info for info in App.create().manager.plugins()}
    assert set(infos) == BUILTINS
    assert all(info.builtin and info.status == "enabled" for info in infos.values())
    assert infos["market_validators"].hooks == ("register_settings", "register_validators")


def test_disable_by_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_DISABLE_PLUGINS", "log_alerter, memory_cache")
    app = App.create()
    assert _statuses(app)["log_alerter"] == "disabled"
    assert "log" not in app.registry("alerters")
    assert "memory" not in app.registry("cache_backends")


def test_disable_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_PLUGINS__DISABLED", '["market_validators"]')
    app = App.create()
    assert _statuses(app)["market_validators"] == "disabled"
    assert "market_status" not in app.registry("validators")


def test_third_party_plugin_is_discovered(third_party: Path) -> None:
    _install_fake_distribution(
        third_party,
        "kalshi-plugin-fake",
        "fake = fake_plugin",
        """
        from kalshi_core.hookspecs import hookimpl

        class Always:
            name = "always"
            def validate(self, market, context): ...

        @hookimpl
        def register_validators(register):
            register("always", lambda section: Always())
        """,
    )
    app = App.create()
    [info] = [i for i in app.manager.plugins() if i.name == "fake"]
    assert (info.distribution, info.version, info.builtin) == ("kalshi-plugin-fake", "1.2.3", False)
    assert app.build("validators", "always").name == "always"


def test_broken_plugin_warns_naming_its_distribution(third_party: Path) -> None:
    _install_fake_distribution(
        third_party, "kalshi-plugin-broken", "broken = broken_plugin", "import does_not_exist\n"
    )
    with pytest.warns(PluginLoadWarning, match="'kalshi-plugin-broken'"):
        app = App.create()
    assert _statuses(app)["broken"] == "failed"
    assert {n for n, s in _statuses(app).items() if s == "enabled"} >= BUILTINS


def test_misspelled_hook_fails_loudly_but_only_that_plugin(third_party: Path) -> None:
    _install_fake_distribution(
        third_party,
        "kalshi-plugin-typo",
        "typo = typo_plugin",
        """
        from kalshi_core.hookspecs import hookimpl

        @hookimpl
        def register_strategy(register):
            pass
        """,
    )
    with pytest.warns(PluginLoadWarning, match="register_strategy"):
        app = App.create()
    assert _statuses(app)["typo"] == "failed"


class _DuplicateAlerter:
    @hookimpl
    def register_alerters(self, register: object) -> None:
        register("log", lambda section: None)  # type: ignore[operator]


def test_two_plugins_registering_one_name_is_an_error_naming_both() -> None:
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(_DuplicateAlerter(), "copycat")
    app = App.create(manager=manager)
    with pytest.raises(PluginError, match=r"'log' is registered twice.*log_alerter.*copycat"):
        app.registry("alerters")


def test_unknown_name_lists_what_is_installed() -> None:
    with pytest.raises(PluginError, match="no strategy named 'nope' is installed"):
        App.create().registry("strategies").get("nope")


def test_every_hookspec_has_documentation_and_a_docs_entry() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text()
    specs = [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "kalshi_core_spec")
    ]
    assert len(specs) >= 11
    for name in specs:
        assert inspect.getdoc(getattr(hookspecs, name)), f"hookspec {name} has no docstring"
        assert f"`{name}`" in docs, f"hookspec {name} is not documented in docs/plugins.md"


def test_kalshi_data_source_builds_a_client_for_loopback_only() -> None:
    app = App.create()
    client = app.build("data_sources", "kalshi", base_url="http://127.0.0.1:9/trade-api/v2")
    assert isinstance(client, KalshiClient)
    with pytest.raises(ConfigError, match=r"kalshi\.base_url is empty"):
        app.build("data_sources", "kalshi")
    with pytest.raises(Exception, match="allow_remote"):
        app.build("data_sources", "kalshi", base_url="https://external-api.kalshi.com/trade-api/v2")


def test_plugin_pinning_another_core_version_warns_but_loads(third_party: Path) -> None:
    _install_fake_distribution(
        third_party,
        "kalshi-plugin-old",
        "old = old_plugin",
        "from kalshi_core.hookspecs import hookimpl\n",
        requires="kalshi-core<0.1",
    )
    with pytest.warns(PluginVersionWarning, match=r"supports kalshi-core <0\.1, but this is"):
        app = App.create()
    assert _statuses(app)["old"] == "enabled"


class _Lifecycle:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def startup(self, app: App) -> None:
        self.calls.append("startup")

    @hookimpl
    async def shutdown(self, app: App) -> None:
        self.calls.append("shutdown")


async def test_startup_and_shutdown_hooks_run_sync_and_async() -> None:
    plugin = _Lifecycle()
    manager = PluginManager()
    manager.register(plugin, "lifecycle")
    app = App.create(manager=manager)
    await app.startup()
    await app.shutdown()
    assert plugin.calls == ["startup", "shutdown"]


def test_every_hookspec_has_a_test_of_its_own() -> None:
    tests = Path(__file__).parents[1]
    text = "\n".join(p.read_text() for p in tests.rglob("test_*.py"))
    specs = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction)]
    missing = [n for n in specs if f"def {n}(" not in text and f"{n}(" not in text]
    assert missing == []


def test_the_manual_s_hookimpl_is_importable_from_the_package(third_party: Path) -> None:
    _install_fake_distribution(
        third_party,
        "kalshi-plugin-manual",
        "manual = manual_plugin",
        """
        import kalshi_core

        @kalshi_core.hookimpl
        def register_strategies(register):
            register("from-the-manual", lambda section: object())
        """,
    )
    assert "from-the-manual" in App.create().registry("strategies")


def test_an_async_register_hook_is_refused_when_the_plugin_loads(third_party: Path) -> None:
    _install_fake_distribution(
        third_party,
        "kalshi-plugin-async",
        "asyncreg = async_plugin",
        """
        from kalshi_core import hookimpl

        @hookimpl
        async def register_validators(register):
            register("never", lambda section: None)
        """,
    )
    with pytest.warns(PluginLoadWarning, match="register_validators is async"):
        app = App.create()
    assert _statuses(app)["asyncreg"] == "failed"
    assert "never" not in app.registry("validators")


def test_exchange_serve_runs_the_startup_and_shutdown_hooks(
    third_party: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks.txt"
    _install_fake_distribution(
        third_party,
        "kalshi-plugin-lifecycle",
        "lifecycle = lifecycle_plugin",
        f"""
        from kalshi_core import hookimpl

        @hookimpl
        def startup(app):
            open({str(marks)!r}, "a").write("startup\\n")

        @hookimpl
        async def shutdown(app):
            open({str(marks)!r}, "a").write("shutdown\\n")
        """,
    )
    script = Path(sys.executable).parent / "kalshi-core"
    env = {
        **os.environ,
        "PYTHONPATH": str(third_party),
        "KALSHI_LOAD_PLUGINS": "builtin,lifecycle",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [str(script), "exchange", "serve", "--data-set", "kxinxu"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("base URL"):
                assert marks.read_text() == "startup\n"
                process.send_signal(signal.SIGINT)
                break
        process.wait(timeout=60)
    assert marks.read_text() == "startup\nshutdown\n"
