"""The image, built here from a local base image and run with no network."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import kalshi_core
from tests.deploy.docker_engine import DockerEngine

pytestmark = [pytest.mark.docker, pytest.mark.slow]

OFFLINE = ("run", "--rm", "--network=none")
STARTED_TIMEOUT = 120.0


def test_container_answers_version(engine: DockerEngine, image: str) -> None:
    out = engine.docker(*OFFLINE, image, "version")
    assert f"kalshi-core {kalshi_core.__version__}" in out


def test_runs_as_non_root_without_build_tools(engine: DockerEngine, image: str) -> None:
    assert engine.docker(*OFFLINE, "--entrypoint=id", image, "-u").strip() == "10001"
    probe = "command -v pip pip3 gcc cc make; ls /opt/kalshi-core/bin | grep -x 'pip.*'; true"
    assert engine.docker(*OFFLINE, "--entrypoint=sh", image, "-c", probe).strip() == ""


def test_no_secrets_or_wheelhouse_in_the_image(engine: DockerEngine, image: str) -> None:
    names = "-name .secrets.toml -o -name wheelhouse -o -name 'kalshi_*.whl'"
    probe = f"find / -xdev \\( {names} \\) -print"
    assert engine.docker(*OFFLINE, "--user=0", "--entrypoint=sh", image, "-c", probe).strip() == ""


def test_plugins_are_installed(engine: DockerEngine, image: str) -> None:
    out = engine.docker(*OFFLINE, image, "plugins")
    assert "postgres" in out


def test_short_paper_run(engine: DockerEngine, image: str) -> None:
    out = engine.docker(*OFFLINE, image, "run", "--cycles", "5", timeout=300)
    assert "stopped: 5 cycles done" in out
    assert "cycles: 5" in out
    assert "vs the exchange's" in out


def test_settings_from_variables_and_a_mounted_file(
    engine: DockerEngine, image: str, tmp_path: Path
) -> None:
    (tmp_path / "settings.toml").write_text("[default]\nrun.max_markets = 7\n")
    # The container runs as uid 10001: a mounted file must be readable by it.
    tmp_path.chmod(0o755)
    (tmp_path / "settings.toml").chmod(0o644)
    mounted = [
        f"--volume={tmp_path}:/etc/kalshi-core:ro",
        "--env=KALSHI_SETTINGS_FILE=/etc/kalshi-core/settings.toml",
        "--env=KALSHI_RUN__SPEED=1234",
    ]
    out = engine.docker(*OFFLINE, *mounted, image, "config", "show")
    assert "run.max_markets = 7" in out
    assert "run.speed = 1234" in out


def test_a_bad_variable_stops_the_container_with_its_name(engine: DockerEngine, image: str) -> None:
    with pytest.raises(AssertionError) as failed:
        engine.docker(*OFFLINE, "--env=KALSHI_RUN__SPEED=fast", image, "config", "validate")
    assert "exited 2" in str(failed.value)
    assert "KALSHI_RUN__SPEED" in str(failed.value)


def _wait_for_log(engine: DockerEngine, container: str, text: str) -> None:
    deadline = time.monotonic() + STARTED_TIMEOUT
    while time.monotonic() < deadline:
        if text in engine.docker("logs", container):
            return
        time.sleep(0.5)  # polling the container's progress, not timing a result
    raise AssertionError(f"{text!r} never appeared: {engine.docker('logs', container)}")


def test_docker_stop_mid_run_finishes_the_cycle_and_reports(
    engine: DockerEngine, image: str
) -> None:
    name = "kc-e2e-stop"
    engine.docker("run", "--detach", "--network=none", f"--name={name}", image, "run")
    try:
        _wait_for_log(engine, name, "cycle 1 at")
        engine.docker("stop", "--time=60", name, timeout=120)
        assert engine.docker("inspect", "--format={{.State.ExitCode}}", name).strip() == "0"
        logs = engine.docker("logs", name)
        assert "stopped: interrupted" in logs
        assert "vs the exchange's" in logs
    finally:
        engine.docker("rm", "--force", name)
