"""Sweep trials on a Dask cluster (the ``dask`` extra: ``pip install '.[dask]'``).

The history folder is local to the client, so its **bytes** go to the cluster once: the chosen
data sets' files are packed into one :class:`HistoryPayload`, ``client.scatter(...,
broadcast=True)`` puts a copy on every worker, and each worker process materialises it into a
temporary folder the first time a trial needs it (keyed by the payload's SHA-256, so later
trials reuse it). Each trial then runs like a local one, into a temporary SQLite database
whose bytes come back with the result; the client writes them to ``<output>/trials``. So a
remote worker needs kalshi-core installed, nothing else: no shared disk.

Workers should run one task at a time (``--nthreads 1``): a backtest is CPU-bound Python.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.backtest.sweep import OnDone, TrialResult, TrialTask, execute_task
from kalshi_core.errors import ConfigError

_MATERIALISED: dict[str, Path] = {}  # per worker process: payload digest -> its folder


def _dask() -> Any:
    try:
        import distributed  # noqa: PLC0415 - an optional extra, imported only when asked for
    except ImportError as error:
        raise ConfigError(
            "the Dask executor needs the dask extra: "
            "from a kalshi-core checkout, pip install '.[dask]'"
        ) from error
    return distributed


@attrs.frozen(kw_only=True)
class HistoryPayload:
    """The files of the chosen data sets (relative path -> bytes) and their digest."""

    digest: str
    files: Mapping[str, bytes]


def pack_history(data_dir: Path, data_sets: Sequence[str]) -> HistoryPayload:
    """Read ``data_sets`` of ``data_dir`` (every set in it when empty) into one payload."""
    sets = list(data_sets) or sorted(p.parent.name for p in data_dir.glob("*/markets.jsonl"))
    files: dict[str, bytes] = {}
    for name in sets:
        folder = data_dir / name
        if not (folder / "markets.jsonl").is_file():
            raise ConfigError(f"data set {name!r} has no markets.jsonl in {data_dir}")
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            files[f"{name}/{path.name}"] = path.read_bytes()
    digest = hashlib.sha256()
    for relative, content in sorted(files.items()):
        digest.update(relative.encode() + b"\0" + hashlib.sha256(content).digest())
    return HistoryPayload(digest=digest.hexdigest(), files=files)


def materialise(payload: HistoryPayload) -> Path:
    """The payload as a folder on this machine, written once per process."""
    folder = _MATERIALISED.get(payload.digest)
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix=f"kalshi-history-{payload.digest[:12]}-"))
        for relative, content in payload.files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _MATERIALISED[payload.digest] = folder
    return folder


def remote_task(task: TrialTask, payload: HistoryPayload) -> tuple[TrialResult, bytes]:
    """What a Dask worker runs: the task on the materialised history, its database's bytes."""
    data_dir = materialise(payload)
    with tempfile.TemporaryDirectory(prefix="kalshi-trial-") as scratch:
        database = Path(scratch) / f"{task.name}.sqlite3"
        result = execute_task(task, str(data_dir), database)
        content = database.read_bytes() if database.exists() else b""
    return result, content


def run_on_dask(
    client: Any,
    tasks: Sequence[TrialTask],
    payload: HistoryPayload,
    output: Path,
    on_done: OnDone | None = None,
) -> list[TrialResult]:
    """Run ``tasks`` on ``client``'s cluster, the history scattered to every worker once."""
    folder = output / "trials"
    folder.mkdir(parents=True, exist_ok=True)
    shipped = client.scatter(payload, broadcast=True, hash=False)
    futures = [
        client.submit(remote_task, task, shipped, key=f"kalshi-{payload.digest[:8]}-{task.name}")
        for task in tasks
    ]
    results: dict[str, TrialResult] = {}
    for future in _dask().as_completed(futures):
        result, content = future.result()
        if content:
            (folder / f"{result.name}.sqlite3").write_bytes(content)
        results[result.name] = result
        if on_done is not None:
            on_done(result)
    return [results[t.name] for t in tasks]


CONNECT_SECONDS = 10


@contextlib.contextmanager
def _connected(distributed: Any, scheduler: str) -> Iterator[Any]:
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise ConfigError(
            f"--scheduler {scheduler}: no Dask scheduler answered there ({error})"
        ) from error
    with client:
        yield client


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler`` (``tcp://host:8786``), else of a
    LocalCluster of ``workers`` single-threaded processes on loopback that this starts."""
    distributed = _dask()
    if scheduler:
        with _connected(distributed, scheduler) as client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
