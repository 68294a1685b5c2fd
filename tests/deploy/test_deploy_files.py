"""The Dockerfile, the compose files and the workflows are checked by the tools that read them."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import REPO, require_e2e

WORKFLOWS = REPO / ".github" / "workflows"
EXPECTED_WORKFLOWS = {"test.yml", "lint.yml", "security.yml", "build.yml", "release.yml"}
COMPOSE = [REPO / "docker-compose.yml"]
COMPOSE_DEV = [*COMPOSE, REPO / "docker-compose.dev.yml"]


def _run(argv: list[str | Path], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        cwd=REPO,
    )


def _offline(argv: list[str | Path]) -> list[str | Path]:
    """Run in a network namespace of its own when we may: proves a check needs no network."""
    if os.geteuid() == 0 and shutil.which("unshare"):
        return ["unshare", "--net", *argv]
    return argv


def test_dockerfile_passes_hadolint() -> None:
    require_e2e("hadolint")
    result = _run(["hadolint", "--failure-threshold", "info", REPO / "Dockerfile"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    require_e2e("hadolint")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get install curl\nUSER root\n")
    result = _run(["hadolint", bad])
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the :latest tag


def test_the_workflows_replace_ci_yml() -> None:
    assert {p.name for p in WORKFLOWS.glob("*.yml")} == EXPECTED_WORKFLOWS


def test_every_workflow_validates_offline() -> None:
    require_e2e("check-jsonschema")
    files = sorted(WORKFLOWS.glob("*.yml"))
    schema = ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"]
    result = _run(_offline([*schema, *files]))
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_validation_catches_a_broken_workflow(tmp_path: Path) -> None:
    require_e2e("check-jsonschema")
    broken = tmp_path / "broken.yml"
    job = "  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo hi\n"
    broken.write_text(f"name: broken\non: push\njobs:\n{job}")
    schema = ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"]
    result = _run(_offline([*schema, broken]))
    assert result.returncode != 0
    assert "'stepz' was unexpected" in result.stdout


def _compose_config(files: list[Path], **env: str) -> subprocess.CompletedProcess[str]:
    argv: list[str | Path] = ["docker-compose"]
    for file in files:
        argv += ["--file", file]
    return _run([*argv, "config"], **env)


def _resolved(files: list[Path]) -> dict[str, Any]:
    # ruamel.yaml comes with check-jsonschema in the e2e env; the other envs never get here.
    yaml = importlib.import_module("ruamel.yaml").YAML(typ="safe")
    result = _compose_config(files, POSTGRES_PASSWORD="test-only")
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = yaml.load(result.stdout)
    return loaded


def test_compose_stack_is_health_gated_with_named_volumes() -> None:
    require_e2e("docker-compose")
    config = _resolved(COMPOSE)
    services = config["services"]
    assert set(services) == {"kalshi-core", "postgres", "redis", "prometheus"}
    assert services["kalshi-core"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("postgres", "redis", "prometheus"):
        assert services[name]["healthcheck"]["test"], name
    assert set(config["volumes"]) == {
        "postgres-data",
        "redis-data",
        "prometheus-data",
        "kalshi-data",
    }
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert all(str(p).startswith("127.0.0.1:") for p in published), published


def test_compose_bot_is_configured_only_through_kalshi_variables() -> None:
    require_e2e("docker-compose")
    bot = _resolved(COMPOSE)["services"]["kalshi-core"]
    assert all(key.startswith("KALSHI_") for key in bot["environment"])
    assert bot["environment"]["KALSHI_DATABASE__URL"].startswith("postgresql+asyncpg://kalshi:")
    assert "build" not in bot  # production runs a tagged image, never a local build


def test_compose_refuses_to_start_without_a_database_password() -> None:
    require_e2e("docker-compose")
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    result = subprocess.run(
        ["docker-compose", "--file", str(COMPOSE[0]), "config"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=REPO,
    )
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD" in result.stderr


def test_dev_override_builds_locally_and_mounts_settings() -> None:
    require_e2e("docker-compose")
    bot = _resolved(COMPOSE_DEV)["services"]["kalshi-core"]
    assert bot["build"]["context"] == str(REPO)
    assert f"{REPO / 'config'}:/etc/kalshi-core:ro" in bot["volumes"]
    assert bot["environment"]["KALSHI_SETTINGS_FILE"] == "/etc/kalshi-core/settings.toml"
    assert bot["environment"]["KALSHI_MODE"] == "paper"
    assert (REPO / "config" / "settings.toml").is_file()


@pytest.mark.parametrize("path", ["docker-compose.yml", "docker-compose.dev.yml"])
def test_compose_files_match_the_compose_spec(path: str) -> None:
    require_e2e("check-jsonschema")
    schema = ["check-jsonschema", "--builtin-schema", "vendor.compose-spec"]
    result = _run(_offline([*schema, REPO / path]))
    assert result.returncode == 0, result.stdout + result.stderr
