"""Fixtures for the deployment checks: the image, its engine, the compose files, the workflows.

These checks are heavy (a Docker engine, a debootstrapped base image) or need tools the core's
test-suite does not install, so they run in one tox env, ``tox -e e2e``, which sets
``KALSHI_TEST_E2E=1``. Elsewhere they are skipped. Inside it a missing tool (or not being
root, which dockerd and debootstrap need) fails them on CI (``CI=true``) and skips them on a
developer's machine, so `tox` stays runnable there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.docker_engine import BASE_TAG, DockerEngine, docker_engine, make_base_tarball

REPO = Path(__file__).resolve().parents[2]
E2E_VAR = "KALSHI_TEST_E2E"
CACHE_VAR = "KALSHI_TEST_DOCKER_CACHE"
IMAGE_TAG = "kalshi-core:e2e"


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true)")
    pytest.skip(reason)


def require_e2e(*tools: str, root: bool = False) -> None:
    """Skip outside ``tox -e e2e``; inside it, a missing tool fails on CI and skips elsewhere."""
    if os.environ.get(E2E_VAR) != "1":
        pytest.skip(f"deployment check: runs in `tox -e e2e` ({E2E_VAR}=1)")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        _missing(f"{', '.join(missing)} not found: .ci/run installs them with apt-get")
    if root and os.geteuid() != 0:
        _missing("dockerd and debootstrap need root")


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerEngine]:
    """A dockerd of our own, stopped (and its mounts undone) after the session."""
    require_e2e("dockerd", "docker", "debootstrap", root=True)
    root = Path(tempfile.mkdtemp(prefix="kc-dockerd-"))  # short: the socket path is limited
    try:
        with docker_engine(root) as started:
            yield started
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def base_image(engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The local base image, debootstrapped once a CI run (kept in $KALSHI_TEST_DOCKER_CACHE)."""
    if not engine.has_image(BASE_TAG):
        cache = Path(os.environ.get(CACHE_VAR) or tmp_path_factory.mktemp("docker-cache"))
        cache.mkdir(parents=True, exist_ok=True)
        engine.docker("import", make_base_tarball(cache), BASE_TAG)
    return BASE_TAG


@pytest.fixture(scope="session")
def build_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheelhouse (core + every plugin + their dependencies), built before the image."""
    context = tmp_path_factory.mktemp("context")
    plugins = sorted(p.parent for p in REPO.glob("plugins/*/pyproject.toml"))
    wheel = [sys.executable, "-m", "pip", "wheel", "-q", f"--wheel-dir={context / 'wheelhouse'}"]
    subprocess.run([*wheel, str(REPO), *map(str, plugins)], check=True)
    shutil.copy(REPO / ".dockerignore", context / ".dockerignore")
    return context


@pytest.fixture(scope="session")
def image(engine: DockerEngine, base_image: str, build_context: Path) -> str:
    """The project's Dockerfile built from the local base image, with no network."""
    engine.docker(
        "build",
        "--network=none",
        f"--build-arg=BASE_IMAGE={base_image}",
        f"--file={REPO / 'Dockerfile'}",
        f"--tag={IMAGE_TAG}",
        build_context,
    )
    return IMAGE_TAG
