"""A redis-server of the test's own, on a free loopback port, that the test may stop and
start again (the shared test server is never touched)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

READY = b"Ready to accept connections"
START_TIMEOUT = 30.0  # only a guard against a hung start; a healthy one is ready at once


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """``redis-server`` on 127.0.0.1:``port``, without persistence, in ``directory``."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed: the outage test starts its own")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        await asyncio.wait_for(self._ready(), START_TIMEOUT)

    async def _ready(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"redis-server on port {self.port} exited at start")
            if READY in line:
                return

    async def stop(self) -> None:
        """Stop this server (its own process, by its pid) and wait until it is gone."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()
            await process.wait()


@contextlib.asynccontextmanager
async def own_redis(directory: Path) -> AsyncIterator[OwnRedis]:
    server = OwnRedis(directory)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
