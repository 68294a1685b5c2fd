"""A throwaway Docker engine and a locally made base image, for the image tests.

Nothing here pulls from a registry: the base image is made with debootstrap from the Debian
mirror apt already uses, and the daemon runs without iptables or a bridge, so containers get
loopback only (``--network none``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

BASE_TAG = "localbase:bookworm"
BASE_TARBALL = "localbase-bookworm.tar"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
READY_TIMEOUT = 60.0


Argv = Sequence[str | os.PathLike[str]]


def run(
    argv: Argv, *, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command, raising with its output when it fails."""
    result = subprocess.run(
        [str(a) for a in argv],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, argv))} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def apt_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt uses here (deb822 ``URIs:`` or one-line ``deb URL`` form)."""
    files = [*sorted(sources.glob("sources.list.d/*")), sources / "sources.list"]
    for file in files:
        text = file.read_text() if file.is_file() else ""
        for line in text.splitlines():
            match = re.match(r"\s*(?:URIs:|deb(?:\s+\[[^]]*\])?)\s+(\S+/debian)/?\s*", line)
            if match:
                return match.group(1)
    return DEFAULT_MIRROR


def mounts_under(root: Path) -> list[str]:
    """Mount points below ``root``, deepest first (the order to unmount them in)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == str(root) or point.startswith(f"{root}/"):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def unmount_all(root: Path) -> None:
    for point in mounts_under(root):
        subprocess.run(["umount", "--lazy", point], check=False)


def make_base_tarball(cache: Path) -> Path:
    """debootstrap a minimal bookworm with python3 and venv, as a tarball in ``cache``."""
    tarball = cache / BASE_TARBALL
    if tarball.is_file():
        return tarball
    rootfs = cache / "rootfs"
    try:
        run(["debootstrap", "--variant=minbase", "bookworm", rootfs, apt_mirror()], timeout=900)
        chroot = ["chroot", rootfs]
        apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
        run([*chroot, *apt, "python3", "python3-venv"], timeout=900)
        run([*chroot, "apt-get", "clean"])
        shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", rootfs, "-cf", partial, "."])
        partial.rename(tarball)
    finally:
        unmount_all(rootfs)
        shutil.rmtree(rootfs, ignore_errors=True)
    return tarball


class DockerEngine:
    """A dockerd of our own: its socket, data and state all under one temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_BUILDKIT": "0"}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            "dockerd",
            f"--host=unix://{self.socket}",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            "--storage-driver=overlay2",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
        ]
        with (self.root / "dockerd.log").open("wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"dockerd exited: {self.log_tail()}")
            if self._succeeds("info"):
                return
            time.sleep(0.2)  # polling a daemon's readiness, not timing a result
        raise AssertionError(f"dockerd not ready after {READY_TIMEOUT} s: {self.log_tail()}")

    def log_tail(self) -> str:
        log = self.root / "dockerd.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def docker(self, *args: str | os.PathLike[str], timeout: float = 600) -> str:
        return run(["docker", *args], env=self.env, timeout=timeout).stdout

    def stop(self) -> None:
        """Stop the daemon (it stops its containers and containerd) and unmount what it left."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        unmount_all(self.root)

    def _succeeds(self, *args: str) -> bool:
        probe = subprocess.run(["docker", *args], check=False, capture_output=True, env=self.env)
        return probe.returncode == 0

    def has_image(self, tag: str) -> bool:
        return self._succeeds("image", "inspect", tag)


@contextlib.contextmanager
def docker_engine(root: Path) -> Iterator[DockerEngine]:
    engine = DockerEngine(root)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()
