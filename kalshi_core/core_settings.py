"""Rules for the core's own settings sections (plugins bring rules for theirs)."""

from __future__ import annotations

from kalshi_core.cache.settings import CACHE_RULES
from kalshi_core.dashboard.settings import DASHBOARD_RULES
from kalshi_core.settings_rules import Rule

NUMBER = (int, float)
NAMES = (list,)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TIERS = ("basic", "advanced", "premier", "prime")
SEVERITIES = ("info", "warning", "critical")
HALTS = ("none", "pause_entries", "cancel_resting", "flatten", "stop")


def _fraction(key: str, description: str) -> Rule:
    """A share of the portfolio: above 0 and at most 1 (0.05 == 5%)."""
    return Rule(
        key=key,
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=1,
        description=f"{description}, as a fraction of the portfolio: 0.05 = 5%",
    )


def _seconds(key: str, description: str, maximum: float = 86_400) -> Rule:
    return Rule(
        key=key,
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=maximum,
        description=description,
    )


def _halt(name: str) -> tuple[Rule, ...]:
    return (
        Rule(key=f"anomalies.{name}.enabled", types=(bool,), description="run this detector"),
        Rule(
            key=f"anomalies.{name}.halt",
            types=(str,),
            choices=HALTS,
            description="stop level this anomaly asks for; none = alert only",
        ),
    )


MONITORING_RULES: tuple[Rule, ...] = (
    Rule(key="logging.format", types=(str,), choices=("text", "json"), description="log lines"),
    Rule(key="monitoring.enabled", types=(bool,), description="serve /metrics, /healthz, /readyz"),
    Rule(key="monitoring.host", types=(str,), description="address to serve on; loopback default"),
    Rule(key="monitoring.port", types=(int,), minimum=0, maximum=65535, description="0 = free"),
    _seconds(
        "monitoring.max_cycle_age_seconds",
        "wall seconds since the last cycle, at most, to be ready",
    ),
    _seconds("monitoring.probe_timeout_seconds", "readiness probe timeout", maximum=60),
    Rule(key="monitoring.market_label_cap", types=(int,), minimum=0, maximum=1000),
    Rule(key="monitoring.flatten_concession_cents", types=(int,), minimum=0, maximum=99),
    Rule(key="alerts.min_severity", types=(str,), choices=SEVERITIES, description="lowest sent"),
    Rule(key="alerts.routes", types=(dict,), description="severity -> channels; absent = all"),
    Rule(key="alerts.dedup_seconds", types=NUMBER, minimum=0, maximum=604_800),
    Rule(key="alerts.rate_limit_count", types=(int,), minimum=1, maximum=100_000),
    _seconds("alerts.rate_limit_seconds", "rate-limit window per channel"),
    Rule(key="alerts.retry_attempts", types=(int,), minimum=1, maximum=20),
    Rule(key="alerts.retry_backoff_seconds", types=NUMBER, minimum=0, maximum=600),
    *_halt("order_rate"),
    _seconds("anomalies.order_rate.window_seconds", "order-rate window"),
    Rule(key="anomalies.order_rate.max_orders", types=(int,), minimum=1, maximum=1_000_000),
    *_halt("slippage"),
    Rule(key="anomalies.slippage.max_cents", types=(int,), minimum=0, maximum=99),
    *_halt("drawdown"),
    _fraction("anomalies.drawdown.max_fraction", "drawdown from peak equity"),
    *_halt("loss_streak"),
    Rule(key="anomalies.loss_streak.baseline_size", types=(int,), minimum=2, maximum=10_000),
    Rule(key="anomalies.loss_streak.min_streak", types=(int,), minimum=1, maximum=1000),
    Rule(
        key="anomalies.loss_streak.max_probability",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=1,
        description="alarm when a losing streak's probability under the baseline loss rate, "
        "loss_rate ** streak_length, is below this: 0.01 = 1%",
    ),
    *_halt("api_errors"),
    _seconds("anomalies.api_errors.window_seconds", "API error window"),
    Rule(key="anomalies.api_errors.max_errors", types=(int,), minimum=1, maximum=1_000_000),
    *_halt("model_spend"),
    Rule(key="anomalies.model_spend.margin", types=NUMBER, minimum=0, maximum=1),
)


CORE_RULES: tuple[Rule, ...] = (
    Rule(key="mode", types=(str,), choices=("paper", "live"), description="paper or live trading"),
    Rule(key="logging.level", types=(str,), choices=LOG_LEVELS, description="log level"),
    Rule(key="plugins.disabled", types=NAMES, description="entry-point names not to load"),
    Rule(key="data.source", types=(str,), description="registered data source to trade from"),
    Rule(key="kalshi.base_url", types=(str,), description="Trade API base URL; empty = local"),
    Rule(key="kalshi.api_key_id", types=(str,), description="Kalshi API key id"),
    Rule(key="kalshi.private_key_path", types=(str,), description="path to the key's PEM file"),
    Rule(key="kalshi.private_key", types=(str,), secret=True, description="PEM text of the key"),
    Rule(key="kalshi.rate_limit_tier", types=(str,), choices=TIERS, description="API tier"),
    Rule(
        key="kalshi.timeout_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=300,
        description="HTTP timeout",
    ),
    Rule(
        key="kalshi.request_deadline_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=3600,
        description="longest one HTTP request may take in all",
    ),
    Rule(key="kalshi.max_retries", types=(int,), minimum=0, maximum=20, description="read retries"),
    Rule(
        key="kalshi.max_pages",
        types=(int,),
        minimum=1,
        maximum=10_000_000,
        description="pages one paginated listing may walk",
    ),
    Rule(key="exchange.host", types=(str,), choices=("127.0.0.1", "::1", "localhost")),
    Rule(key="exchange.port", types=(int,), minimum=0, maximum=65535, description="0 = free port"),
    Rule(
        key="exchange.speed",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=1_000_000,
        description="replay speed",
    ),
    Rule(key="exchange.data_sets", types=NAMES, description="recorded history to replay"),
    Rule(
        key="exchange.data_dir",
        types=(str,),
        description="folder of recorded history data sets; empty = the bundled history",
    ),
    Rule(
        key="exchange.fill_model",
        types=(str,),
        description="how replayed history fills orders: trade_through (default), prob_queue, "
        "l2_replay, synthetic_book, or a plugin's",
    ),
    *(
        Rule(
            key=f"exchange.latency.{part}_ms",
            types=(int,),
            minimum=0,
            maximum=3_600_000,
            description=f"{what} in recorded milliseconds",
        )
        for part, what in (
            ("base", "latency added to every order and cancel"),
            ("insert", "extra time before a new order is live"),
            ("cancel", "extra time before a cancel takes effect"),
        )
    ),
    Rule(key="forecast.models", types=NAMES, description="forecasters to ask"),
    Rule(key="pipeline.validators", types=NAMES, description="validators to run"),
    Rule(key="pipeline.max_concurrency", types=(int,), minimum=1, maximum=1024),
    Rule(key="strategies.enabled", types=NAMES, description="strategies to run"),
    _fraction("risk.max_position_pct", "largest position in one market"),
    _fraction("risk.max_daily_loss_pct", "daily loss that trips the kill switch"),
    _fraction("risk.max_gross_exposure_pct", "largest gross exposure"),
    Rule(key="risk.max_order_contracts", types=(int,), minimum=1, maximum=1_000_000),
    Rule(key="risk.max_orders_per_minute", types=(int,), minimum=1, maximum=100_000),
    Rule(
        key="risk.kill_switch_rearm",
        types=(str,),
        choices=("next_day", "manual"),
        description="when a tripped daily-loss kill switch trades again",
    ),
    Rule(
        key="run.speed",
        types=NUMBER,
        minimum=0,
        maximum=10_000_000,
        description="recorded seconds shown per wall second (display pacing only); 0 = as fast "
        "as possible",
    ),
    Rule(key="run.venue", types=(str,), description="where `run` trades: paper, simulated, kalshi"),
    Rule(
        key="run.worker_id",
        types=(str,),
        description="this worker's stable name (market leases on a shared venue); "
        "empty = host:pid of the process",
    ),
    Rule(
        key="run.seed",
        types=(int,),
        minimum=0,
        description="seed of everything random in a run (the replay's liquidity, faults)",
    ),
    Rule(
        key="run.cycle_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=86_400,
        description="recorded seconds between two trading cycles",
    ),
    Rule(key="run.max_orders_per_event", types=(int,), minimum=1, maximum=1000),
    Rule(
        key="run.market_data",
        types=(str,),
        choices=("poll", "stream"),
        description="books over REST each cycle (poll), or from the kalshi-ws feed with REST "
        "as its fallback (stream)",
    ),
    Rule(
        key="run.max_markets",
        types=(int,),
        minimum=0,
        maximum=10_000_000,
        description="markets one worker leases at most; 0 = all",
    ),
    Rule(
        key="run.full_listing_every",
        types=(int,),
        minimum=1,
        maximum=10_000,
        description="list every open market once in this many cycles, only the markets "
        "updated since (min_updated_ts) in between; 1 = a full listing every cycle",
    ),
    Rule(
        key="run.lease_seconds",
        types=NUMBER,
        minimum=10,
        maximum=86_400,
        description="wall seconds a worker's market lease lasts unless renewed "
        "(shared venues only: an in-process exchange takes no lease)",
    ),
    *CACHE_RULES,
    Rule(key="alerts.channels", types=NAMES, description="registered alerters to deliver to"),
    *MONITORING_RULES,
    *DASHBOARD_RULES,  # the web dashboard (kalshi_core/dashboard, docs/dashboard.md)
)
