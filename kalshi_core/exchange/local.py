"""The local Kalshi exchange as a service: venue + replay + clock + API keys + faults + HTTP.

:class:`LocalExchange` bundles the in-process :class:`~kalshi_core.exchange.venue.Venue`, an
optional :class:`~kalshi_core.exchange.replay.Replay` of recorded history driven by a
:class:`~kalshi_core.clock.ReplayClock`, the API-key registry and the fault injector, and
serves them over HTTP (:mod:`kalshi_core.exchange.server`) with uvicorn on a loopback port::

    async with LocalExchange.running(data_sets=["kxinxu"]) as ex:
        client = KalshiClient(ex.base_url, signer=Signer.from_file(ex.api_key_id,
                                                                   ex.private_key_path))

Before each request (and on a background tick) the replay is advanced to the clock's time;
when no market is trading the clock jumps to the next recorded event.

The dev API key (RSA, PKCS#1 like Kalshi's) is generated on first use and kept under the
user data dir (``platformdirs.user_data_dir("kalshi-core")/exchange``, private PEM mode 600).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import platformdirs
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_core.client.transport import is_loopback
from kalshi_core.clock import (
    Clock,
    ManualClock,
    PacedClock,
    ReplayClock,
    SimulatedTime,
    SystemClock,
)
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.faults import FaultInjector, FaultSettings
from kalshi_core.exchange.fill_models import FillModel
from kalshi_core.exchange.http.serving import http_protocol, loop_factory, settle_heap
from kalshi_core.exchange.replay import History, Replay, load_history
from kalshi_core.exchange.replay import window as replay_window
from kalshi_core.exchange.server import PREFIX, Catalog, ExchangeApp, KeyRegistry, ServerContext
from kalshi_core.exchange.timeshift import TIME_MODES, present_offset, shift_history
from kalshi_core.exchange.venue import Latency, Venue
from kalshi_core.models import MarketStatus
from kalshi_core.money import DOLLAR, Money
from kalshi_core.wire import format_time

DEV_ACCOUNT = "dev"
DEFAULT_BALANCE: Money = 10_000 * DOLLAR
KEY_FILE = "dev-api-key.pem"
PUBLIC_KEY_FILE = "dev-api-key.pub.pem"
KEY_ID_FILE = "dev-api-key.id"
BUNDLED_HISTORY = Path(__file__).resolve().parent.parent / "data" / "history"

log = logging.getLogger(__name__)


def default_key_dir() -> Path:
    return Path(platformdirs.user_data_dir("kalshi-core")) / "exchange"


@attrs.frozen
class DevKey:
    """The dev account's API key: its id, where its private PEM is, and its public PEM."""

    key_id: str
    private_key_path: Path
    public_pem: bytes = attrs.field(repr=False)


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)


def _generate_key(directory: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, as Kalshi hands out
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_private(directory / KEY_FILE, pem)
    (directory / PUBLIC_KEY_FILE).write_bytes(public)
    (directory / KEY_ID_FILE).write_text(str(uuid.uuid4()) + "\n")


def ensure_dev_key(directory: Path | None = None) -> DevKey:
    """The dev API key in ``directory`` (default :func:`default_key_dir`), made if missing."""
    directory = directory or default_key_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / KEY_FILE).is_file() or not (directory / KEY_ID_FILE).is_file():
            _generate_key(directory)
        private = directory / KEY_FILE
        private.chmod(0o600)
        key = serialization.load_pem_private_key(private.read_bytes(), password=None)
        key_id = (directory / KEY_ID_FILE).read_text().strip()
    except (OSError, ValueError) as exc:
        # Say where, never what the file holds.
        raise ConfigError(f"cannot prepare the dev API key in {directory}: {exc}") from None
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DevKey(key_id, private, public)


@attrs.frozen(kw_only=True)
class Progress:
    """Where the replay stands, for the progress line of ``kalshi-core exchange serve``."""

    now: datetime
    markets_open: int
    events_applied: int
    events_total: int
    finished: bool


class _Server(uvicorn.Server):
    """uvicorn inside our event loop: announces start-up on an event, and handles SIGINT /
    SIGTERM itself only when asked (an embedding application keeps its own handlers)."""

    def __init__(self, config: uvicorn.Config, *, handle_signals: bool) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self.handle_signals = handle_signals

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self.handle_signals:
            yield
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def stop(self) -> None:
        self.force_exit = self.should_exit  # a second Ctrl-C stops without waiting
        self.should_exit = True


def _bind(host: str, port: int) -> socket.socket:
    if not is_loopback(host):
        raise ConfigError(f"the local exchange serves on loopback only, not {host!r}")
    address = "127.0.0.1" if host == "localhost" else host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it Nagle + delayed ACK add ~40 ms per response.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {address} port {port}: {exc}") from None
    return sock


def _url(sock: socket.socket) -> str:
    address, port = sock.getsockname()[:2]
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}{PREFIX}"


def _fresh_namespace() -> str:
    """Order, trade and fill ids unique to this exchange instance: a database shared by many
    paper sessions must never see one session's fill id again in the next (it would be taken
    for a duplicate and dropped)."""
    return f"kalshi-core-local-exchange/{uuid.uuid4()}"


def _clock(history: History, speed: float, stepped: bool, monotonic: Callable[[], float]) -> Clock:
    """The replay's clock: one a client steps, or one the replay sets, paced at ``speed``."""
    start = history.start_time
    if stepped:
        return ManualClock(start)
    return PacedClock(ReplayClock(start, speed, monotonic=monotonic))


def _timed(
    history: History,
    *,
    speed: float,
    stepped: bool,
    monotonic: Callable[[], float],
    time_mode: str,
    wall: Clock | None,
) -> tuple[History, Clock]:
    """The history as served and the venue's clock: recorded time, or (``present``) the
    history shifted so that its first market opens now, on the wall clock."""
    if time_mode not in TIME_MODES:
        raise ConfigError(f"exchange.time {time_mode!r} must be one of {', '.join(TIME_MODES)}")
    if time_mode == "recorded":
        return history, _clock(history, speed, stepped, monotonic)
    if stepped:
        raise ConfigError("exchange.time = present follows the wall clock: it cannot be stepped")
    wall = wall or SystemClock()
    return shift_history(history, present_offset(history, wall.now())), PacedClock(wall)


def _replaying(
    history: History,
    venue_options: dict[str, Any],
    *,
    seed: int,
    fill_model: Callable[..., FillModel] | None,
    timing: dict[str, Any],
) -> Replay:
    """A replay of ``history`` on a new venue whose clock ``timing`` chooses (see _timed)."""
    served, clock = _timed(history, **timing)
    venue = Venue(clock, **venue_options)
    return Replay(venue, served, seed=seed, fill_model=fill_model)


class LocalExchange:
    """See the module docstring. Build with :meth:`create`; serve with :meth:`serving`."""

    def __init__(
        self,
        venue: Venue,
        *,
        replay: Replay | None = None,
        faults: FaultInjector | None = None,
        catalog: Catalog | None = None,
        max_skew_seconds: float = 60.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.venue = venue
        self.clock: Clock = venue.clock
        self.replay = replay
        self._told_events = replay.events_applied if replay else 0  # see _tell_listing
        self.keys = KeyRegistry()
        self.faults = faults or FaultInjector()
        self.context = ServerContext(
            venue=venue,
            keys=self.keys,
            faults=self.faults,
            catalog=catalog or Catalog(),
            sync=self.sync,
            max_skew_seconds=max_skew_seconds,
            wall_clock=wall_clock,
            clock_control=self,
        )
        self.app = ExchangeApp(self.context)
        self.base_url = ""
        self.api_key_id = ""
        self.private_key_path: Path | None = None
        self.account_id = DEV_ACCOUNT
        if self.faults.settings.paused:
            venue.set_paused(True)

    @classmethod
    def create(
        cls,
        *,
        venue: Venue | None = None,
        data_dir: Path | None = None,
        data_sets: Sequence[str] = (),
        speed: float = 60.0,
        seed: int = 0,
        key_dir: Path | None = None,
        starting_balance: Money = DEFAULT_BALANCE,
        faults: FaultSettings | None = None,
        stepped: bool = False,
        id_namespace: str | None = None,
        window: tuple[datetime | None, datetime | None] = (None, None),
        fill_model: Callable[..., FillModel] | None = None,
        latency: Latency | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        time_mode: str = "recorded",
        wall: Clock | None = None,
        **options: Any,
    ) -> LocalExchange:
        """A venue replaying ``data_sets`` of ``data_dir`` (default: bundled), else ``venue`` or
        an empty one. ``stepped``: recorded time moves only with the owner's ManualClock, else
        at ``speed`` paced by ``monotonic``, or shifted to ``wall``'s now (see _timed)."""
        replay, namespace = None, id_namespace or _fresh_namespace()
        if data_sets:
            timing = {"speed": speed, "stepped": stepped, "monotonic": monotonic, "wall": wall}
            replay = _replaying(
                replay_window(load_history(data_dir or BUNDLED_HISTORY, list(data_sets)), *window),
                {"id_namespace": namespace, "latency": latency},
                seed=seed,
                fill_model=fill_model,
                timing={**timing, "time_mode": time_mode},
            )
            venue = replay.venue
            options.setdefault("catalog", Catalog(series=dict(replay.history.series)))
        venue = venue or Venue(SystemClock(), id_namespace=namespace)
        exchange = cls(venue, replay=replay, faults=FaultInjector(faults), **options)
        exchange.add_dev_account(key_dir, starting_balance)
        return exchange

    def add_dev_account(self, key_dir: Path | None, balance: Money) -> DevKey:
        key = ensure_dev_key(key_dir)
        self.add_account(key.key_id, self.account_id, key.public_pem, balance)
        self.api_key_id, self.private_key_path = key.key_id, key.private_key_path
        return key

    def add_account(
        self, key_id: str, account_id: str, public_pem: bytes | str, balance: Money = 0
    ) -> None:
        """Let ``key_id`` (verified with ``public_pem``) trade for ``account_id``."""
        self.keys.add(key_id, account_id, public_pem)
        if balance > 0:
            self.venue.deposit(account_id, balance)

    # ---- time ----

    @property
    def stepped_time(self) -> SimulatedTime | None:
        """Recorded time a client steps (``stepped``); ``None`` when the clock runs by itself."""
        if self.replay is None or not isinstance(self.clock, ManualClock):
            return None
        return SimulatedTime(self.clock, self.replay)

    def clock_state(self) -> dict[str, Any]:
        """``GET /local/clock``: the exchange's time, whether it is stepped, whether the
        recorded history is over."""
        return {
            "now": format_time(self.clock.now()),
            "stepped": self.stepped_time is not None,
            "finished": self.replay.finished if self.replay else False,
            "speed": float(getattr(self.clock, "speed", 1.0)),
        }

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """``POST /local/clock/advance``: step recorded time (a stepped exchange only)."""
        stepped = self.stepped_time
        if stepped is None:
            raise ConfigError("this exchange's clock runs by itself: it cannot be stepped")
        stepped.advance(timedelta(seconds=seconds))
        return self.clock_state()

    def sync(self) -> None:
        """Apply the recorded history up to the clock's time, jumping over idle gaps."""
        if self.replay is None:
            return
        if isinstance(self.clock, PacedClock):
            self.clock.catch_up(self.replay)
            self.venue.advance()  # expiries and closes due by now, with no event to trigger them
        else:
            self.replay.advance(self.clock.now())
        self._tell_listing()

    def _tell_listing(self) -> None:
        """Recorded prints reach the tape without a venue notification: the listing is told of
        the markets of every event applied since (here, or by a stepped clock's advance)."""
        if self.replay is None:
            return
        applied = self.replay.events_applied
        events = self.replay.history.events[self._told_events : applied]
        self._told_events = applied
        self.context.markets_changed({event.ticker for event in events})

    def progress(self) -> Progress:
        markets = self.venue.markets()
        return Progress(
            now=self.clock.now(),
            markets_open=sum(m.status is MarketStatus.ACTIVE for m in markets),
            events_applied=self.replay.events_applied if self.replay else 0,
            events_total=self.replay.events_total if self.replay else 0,
            finished=self.replay.finished if self.replay else True,
        )

    async def _tick(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                self.sync()
            except Exception:
                log.exception("local exchange: replay tick failed")

    # ---- serving ----

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ping_seconds: float | None = 10.0,
        **create_options: Any,
    ) -> AsyncIterator[LocalExchange]:
        """:meth:`create` an exchange and serve it for the duration of the block."""
        exchange = cls.create(**create_options)
        async with exchange.serving(host, port, ping_seconds=ping_seconds):
            yield exchange

    @contextlib.asynccontextmanager
    async def serving(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tick_seconds: float = 0.25,
        handle_signals: bool = False,
        ping_seconds: float | None = 10.0,
    ) -> AsyncIterator[LocalExchange]:
        """Serve on ``host:port`` (port 0: a free one) inside the running event loop.

        WebSocket clients get a Ping frame every ``ping_seconds`` (None: never), as Kalshi
        sends every 10 s; one that has not answered by the next ping is disconnected.
        """
        sock = _bind(host, port)
        server = _Server(self._server_config(ping_seconds), handle_signals=handle_signals)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        ready = asyncio.create_task(server.ready.wait())
        await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
        ticking = asyncio.create_task(self._tick(tick_seconds))
        self._server, self._serving = server, serving
        try:
            if not server.ready.is_set():
                await serving  # raises what stopped it
                raise ConfigError(f"the local exchange failed to start on {host}:{port}")
            self.base_url = _url(sock)
            yield self
        finally:
            ready.cancel()
            ticking.cancel()
            self.faults.released.set()
            server.should_exit = True
            await serving
            sock.close()

    def _server_config(self, ping_seconds: float | None) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            lifespan="off",
            ws_ping_interval=ping_seconds,
            ws_ping_timeout=ping_seconds,
            log_config=None,
            access_log=False,
            http=http_protocol(),  # httptools where installed (the `fast` extra), else h11
            timeout_graceful_shutdown=2,
        )

    async def wait_stopped(self) -> None:
        """Until the server stops (Ctrl-C under ``handle_signals``, or :meth:`stop`)."""
        await asyncio.shield(self._serving)

    def stop(self) -> None:
        self._server.stop()

    def serve_forever(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_ready: Callable[[LocalExchange], None] | None = None,
        on_tick: Callable[[LocalExchange], None] | None = None,
        tick_seconds: float = 0.5,
    ) -> None:
        """Serve until Ctrl-C (or SIGTERM); ``on_tick`` runs every ``tick_seconds``."""

        async def main() -> None:
            async with self.serving(host, port, handle_signals=True):
                settle_heap()  # this process only serves: its collector is ours to tune
                if on_ready is not None:
                    on_ready(self)
                while not self._serving.done():
                    if on_tick is not None:
                        on_tick(self)
                    await asyncio.wait({self._serving}, timeout=tick_seconds)

        with asyncio.Runner(loop_factory=loop_factory()) as runner:  # uvloop where installed
            runner.run(main())
