"""Built-in validators: candidate screens (budget, dedup, liquidity, categories, time to close,
open positions, spread) and intent screens (exposure, cash reserve, edge after fees, spread).

Each validator has its own settings section ``validators.<name>`` with defaults and rules
registered here. Intent screens let sells and reduce-only intents through: they lower risk,
and an exit must never be blocked by a limit meant for new positions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from fractions import Fraction
from typing import Any

from kalshi_core.builtin.series_overrides import by_series, series_rule
from kalshi_core.engine.edge import (
    DEFAULT_FEE_MODEL,
    DEFAULT_UNCERTAINTY,
    MISSING_STDERR,
    UncertaintyRule,
    intent_cost,
    lowers_risk,
    order_fee,
    required_edge,
    schedule_of,
    side_probability,
    uncertainty_rule,
)
from kalshi_core.engine.units import cents, contracts, dollars, pct, qty, share, usd
from kalshi_core.fees import FeeModel
from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Forecast, Market, OrderIntent, Verdict
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import PipelineContext
from kalshi_core.settings_rules import Rule

NUMBER = (int, float)


class AiBudgetValidator:
    """Skips analysis once today's AI spend reached the daily budget."""

    name = "ai_budget"

    def __init__(self, daily_budget: int) -> None:
        self.daily_budget = daily_budget

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        if context.ai_spend_today >= self.daily_budget:
            return Verdict.reject(
                self.name,
                f"AI spend today {usd(context.ai_spend_today)} reached the daily budget "
                f"{usd(self.daily_budget)}",
            )
        return Verdict.accept(self.name)


class DedupValidator:
    """Skips a market analysed less than ``min_interval`` ago unless its mid moved enough."""

    name = "dedup"

    def __init__(self, min_interval: timedelta, price_move: int) -> None:
        self.min_interval = min_interval
        self.price_move = price_move

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        last = context.last_analysis.get(market.ticker)
        if last is None:
            return Verdict.accept(self.name)
        age = context.now - last.at
        if age >= self.min_interval:
            return Verdict.accept(self.name)
        mid = market.mid if market.mid is not None else market.last_price
        moved = abs(mid - last.price)
        if moved > self.price_move:
            return Verdict.accept(self.name)
        return Verdict.reject(
            self.name,
            f"analysed {age.total_seconds():g}s ago (< {self.min_interval.total_seconds():g}s) "
            f"and mid moved {usd(moved)} (from {usd(last.price)} to {usd(mid)}), "
            f"not more than {usd(self.price_move)}",
        )


class LiquidityValidator:
    """Skips thin markets: minimum volume, open interest and 24-hour volume (in counts)."""

    name = "liquidity"

    def __init__(self, min_volume: int, min_open_interest: int, min_volume_24h: int) -> None:
        self.minimums = {
            "volume": min_volume,
            "open_interest": min_open_interest,
            "volume_24h": min_volume_24h,
        }

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        for field, minimum in self.minimums.items():
            actual = getattr(market, field)
            if actual < minimum:
                return Verdict.reject(
                    self.name, f"{field} {qty(actual)} is below the minimum {qty(minimum)}"
                )
        return Verdict.accept(self.name)


def _folded(names: Any) -> frozenset[str]:
    return frozenset(str(n).casefold() for n in names or ())


class CategoriesValidator:
    """Category and series allow/deny lists; a deny entry wins over an allow entry.

    The category is ``context.category_of`` for the market's series (or its event ticker);
    an empty allow list allows everything not denied.
    """

    name = "categories"

    def __init__(
        self,
        allow_categories: Any = (),
        deny_categories: Any = (),
        allow_series: Any = (),
        deny_series: Any = (),
    ) -> None:
        self.lists = {
            "category": (_folded(allow_categories), _folded(deny_categories)),
            "series": (_folded(allow_series), _folded(deny_series)),
        }

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        category = context.category_of.get(market.series_ticker) or context.category_of.get(
            market.event_ticker, ""
        )
        values = {"category": category, "series": market.series_ticker}
        for kind, (allow, deny) in self.lists.items():
            value = values[kind]
            if value.casefold() in deny:
                return Verdict.reject(self.name, f"{kind} {value!r} is on the deny list")
            if allow and value.casefold() not in allow:
                allowed = ", ".join(sorted(allow))
                return Verdict.reject(
                    self.name, f"{kind} {value!r} is not in the allow list: {allowed}"
                )
        return Verdict.accept(self.name)


class TimeToCloseValidator:
    """Keeps markets that close between ``min_to_close`` and ``max_to_close`` from now."""

    name = "time_to_close"

    def __init__(self, min_to_close: timedelta, max_to_close: timedelta) -> None:
        self.min_to_close = min_to_close
        self.max_to_close = max_to_close

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        left = market.close_time - context.now
        seconds = left.total_seconds()
        if left < self.min_to_close:
            minimum = self.min_to_close.total_seconds()
            return Verdict.reject(
                self.name, f"closes in {seconds:g}s, under the minimum {minimum:g}s"
            )
        if left > self.max_to_close:
            maximum = self.max_to_close.total_seconds()
            return Verdict.reject(
                self.name, f"closes in {seconds:g}s, over the maximum {maximum:g}s"
            )
        return Verdict.accept(self.name)


class PositionsValidator:
    """Caps the number of open positions; markets already held always pass."""

    name = "positions"

    def __init__(self, max_open_positions: int) -> None:
        self.max_open_positions = max_open_positions

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        held = context.portfolio.positions.get(market.ticker)
        if held is not None and held.position != 0:
            return Verdict.accept(self.name)
        open_count = sum(1 for p in context.portfolio.positions.values() if p.position != 0)
        if open_count >= self.max_open_positions:
            return Verdict.reject(
                self.name,
                f"{open_count} open positions, at the maximum {self.max_open_positions}",
            )
        return Verdict.accept(self.name)


class NewRiskCheck:
    """An intent-stage check that only applies to intents adding risk: an exit (a sell or a
    reduce-only intent) is never blocked. Subclasses implement :meth:`check`."""

    name = ""

    def validate_intent(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        if lowers_risk(intent):
            return Verdict.accept(self.name)
        return self.check(intent, market, forecast, context)

    def check(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        raise NotImplementedError


class SpreadValidator(NewRiskCheck):
    """Rejects markets (and new-position intents) whose YES spread is too wide or one-sided."""

    name = "spread"

    def __init__(self, max_spread: int) -> None:
        self.max_spread = max_spread

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        if market.yes_bid <= 0 or market.yes_ask >= DOLLAR:
            return Verdict.reject(
                self.name,
                f"one side of the book is empty (yes bid {usd(market.yes_bid)}, "
                f"yes ask {usd(market.yes_ask)})",
            )
        if market.spread > self.max_spread:
            return Verdict.reject(
                self.name,
                f"spread {usd(market.spread)} (yes bid {usd(market.yes_bid)}, ask "
                f"{usd(market.yes_ask)}) is wider than the maximum {usd(self.max_spread)}",
            )
        return Verdict.accept(self.name)

    def check(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        return self.validate(market, context)


class ExposureValidator(NewRiskCheck):
    """Per-market and per-event exposure caps as shares of portfolio value, counting the
    intent's own cost."""

    name = "exposure"

    def __init__(self, max_market_pct: Fraction, max_event_pct: Fraction) -> None:
        self.max_market_pct = max_market_pct
        self.max_event_pct = max_event_pct

    def check(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        portfolio = context.portfolio
        cost = intent_cost(intent)
        market_now = portfolio.exposure(intent.ticker)
        event_now = portfolio.event_exposure(market.event_ticker)
        if intent.ticker not in portfolio.event_of:
            event_now += market_now
        checks = (
            (f"market {intent.ticker}", market_now, self.max_market_pct),
            (f"event {market.event_ticker}", event_now, self.max_event_pct),
        )
        for what, current, limit in checks:
            cap = portfolio.value * limit
            if current + cost > cap:
                return Verdict.reject(
                    self.name,
                    f"{what} exposure {usd(current)} + order cost {usd(cost)} exceeds "
                    f"{pct(limit)} of portfolio value {usd(portfolio.value)} = {usd(cap)}",
                )
        return Verdict.accept(self.name)


class CashReserveValidator(NewRiskCheck):
    """Keeps at least ``min_cash_pct`` of portfolio value in cash after the order and its fee."""

    name = "cash_reserve"

    def __init__(self, min_cash_pct: Fraction, fee_model: FeeModel = DEFAULT_FEE_MODEL) -> None:
        self.min_cash_pct = min_cash_pct
        self.fee_model = fee_model

    def check(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        portfolio = context.portfolio
        schedule = schedule_of(context.fee_schedule)
        fee = order_fee(self.fee_model, schedule, intent, is_taker=True, now=context.now)
        left = portfolio.cash - intent_cost(intent) - fee
        reserve = portfolio.value * self.min_cash_pct
        if left < reserve:
            return Verdict.reject(
                self.name,
                f"cash {usd(portfolio.cash)} less order cost {usd(intent_cost(intent))} and fee "
                f"{usd(fee)} leaves {usd(left)}, under the reserve {usd(reserve)} "
                f"({pct(self.min_cash_pct)} of portfolio value {usd(portfolio.value)})",
            )
        return Verdict.accept(self.name)


class MinEdgeValidator(NewRiskCheck):
    """Requires the edge per contract after fees to clear ``min_edge`` plus k standard errors.

    The edge is P(side) less the order's price less its fee per contract: a taker price is the
    ask, so the half spread is paid in it. The fee is the taker fee, or the maker fee for a
    ``post_only`` intent (it can only rest), charged for the whole order with the fee model's
    rounding. Buying NO uses P(no) = 1 - p. The required edge is ``min_edge + k x stderr``
    (see :class:`~kalshi_core.engine.edge.UncertaintyRule`): its lower k-sigma bound must
    still clear ``min_edge``; a forecast without a stderr is refused unless told otherwise.
    """

    name = "min_edge"

    def __init__(
        self,
        min_edge: int,
        fee_model: FeeModel = DEFAULT_FEE_MODEL,
        uncertainty: UncertaintyRule = DEFAULT_UNCERTAINTY,
    ) -> None:
        self.min_edge = min_edge
        self.fee_model = fee_model
        self.uncertainty = uncertainty

    def check(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        if forecast is None:
            return Verdict.reject(self.name, "no forecast to measure the edge against")
        if intent.count <= 0:
            return Verdict.reject(self.name, f"order count {qty(intent.count)} is not positive")
        required = required_edge(self.min_edge, self.uncertainty, forecast)
        if required is None:
            return Verdict.reject(self.name, self.uncertainty.unproven(forecast))
        fee_each = self._fee_each(intent, context)
        belief = side_probability(forecast.probability, intent.side)
        edge = belief - intent.price - fee_each
        if edge < required:
            return Verdict.reject(
                self.name,
                f"edge {usd(edge)} per contract (P({intent.side}) {usd(belief)} less price "
                f"{usd(intent.price)} less fee {usd(fee_each)}) is below the required "
                f"{usd(required)} = {self.uncertainty.explain(forecast, self.min_edge)}",
            )
        return Verdict.accept(self.name)

    def _fee_each(self, intent: OrderIntent, context: PipelineContext) -> Fraction:
        schedule = schedule_of(context.fee_schedule)
        fee = order_fee(
            self.fee_model, schedule, intent, is_taker=not intent.post_only, now=context.now
        )
        return Fraction(fee * CONTRACT, intent.count)


# ---- settings and registration ----

DEFAULTS: dict[str, dict[str, Any]] = {
    "ai_budget": {"daily_budget_dollars": 5.0},
    "dedup": {"min_interval_seconds": 900, "price_move_cents": 2},
    "liquidity": {"min_volume": 0, "min_open_interest": 0, "min_volume_24h": 100},
    "categories": {
        "allow_categories": [],
        "deny_categories": [],
        "allow_series": [],
        "deny_series": [],
    },
    "time_to_close": {"min_seconds": 3600, "max_seconds": 30 * 86_400},
    "positions": {"max_open_positions": 20},
    "spread": {"max_spread_cents": 10},
    "exposure": {"max_market_pct": 0.05, "max_event_pct": 0.15},
    "cash_reserve": {"min_cash_pct": 0.10},
    "min_edge": {
        "min_edge_cents": 3,
        "stderrs": 2,
        "missing_stderr": "refuse",
        "assumed_stderr_cents": 5,
    },
}

# (validator, key) -> (types, minimum, maximum, description)
RULES: dict[tuple[str, str], tuple[tuple[type, ...], float | None, float | None, str]] = {
    ("ai_budget", "daily_budget_dollars"): (NUMBER, 0, 1e6, "AI spend per day, dollars"),
    ("dedup", "min_interval_seconds"): (NUMBER, 0, 7 * 86_400, "re-analyse after this long"),
    ("dedup", "price_move_cents"): (NUMBER, 0, 100, "or sooner if the mid moved this much"),
    ("liquidity", "min_volume"): (NUMBER, 0, None, "minimum total volume, contracts"),
    ("liquidity", "min_open_interest"): (NUMBER, 0, None, "minimum open interest, contracts"),
    ("liquidity", "min_volume_24h"): (NUMBER, 0, None, "minimum 24-hour volume, contracts"),
    ("categories", "allow_categories"): ((list,), None, None, "only these categories"),
    ("categories", "deny_categories"): ((list,), None, None, "never these categories"),
    ("categories", "allow_series"): ((list,), None, None, "only these series tickers"),
    ("categories", "deny_series"): ((list,), None, None, "never these series tickers"),
    ("time_to_close", "min_seconds"): (NUMBER, 0, None, "skip markets closing sooner"),
    ("time_to_close", "max_seconds"): (NUMBER, 0, None, "skip markets closing later"),
    ("positions", "max_open_positions"): ((int,), 0, 10_000, "open positions at most"),
    ("spread", "max_spread_cents"): (NUMBER, 0, 100, "widest YES spread, cents"),
    ("exposure", "max_market_pct"): (NUMBER, 0, 1, "per-market share of portfolio value"),
    ("exposure", "max_event_pct"): (NUMBER, 0, 1, "per-event share of portfolio value"),
    ("cash_reserve", "min_cash_pct"): (NUMBER, 0, 1, "cash kept as a share of portfolio value"),
    ("min_edge", "min_edge_cents"): (NUMBER, 0, 100, "edge per contract after fees, cents"),
    ("min_edge", "stderrs"): (NUMBER, 0, 100, "k: the edge must also clear k standard errors"),
    ("min_edge", "missing_stderr"): ((str,), None, None, "'refuse' or 'assume' a stderr"),
    ("min_edge", "assumed_stderr_cents"): (NUMBER, 0, 100, "stderr assumed when missing"),
}

CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("min_edge", "missing_stderr"): MISSING_STDERR}


def _rules_for(name: str) -> list[Rule]:
    return [
        Rule(
            key=f"validators.{name}.{key}",
            types=types,
            minimum=minimum,
            maximum=maximum,
            description=description,
            choices=CHOICES.get((owner, key)),
        )
        for (owner, key), (types, minimum, maximum, description) in RULES.items()
        if owner == name
    ]


def _settings(name: str, section: Mapping[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS[name], **section}


def _seconds(value: Any) -> timedelta:
    return timedelta(seconds=float(value))


def make_ai_budget(section: Mapping[str, Any]) -> AiBudgetValidator:
    s = _settings("ai_budget", section)
    return AiBudgetValidator(dollars(s["daily_budget_dollars"], "daily_budget_dollars"))


def make_dedup(section: Mapping[str, Any]) -> DedupValidator:
    s = _settings("dedup", section)
    return DedupValidator(
        _seconds(s["min_interval_seconds"]), cents(s["price_move_cents"], "price_move_cents")
    )


def make_liquidity(section: Mapping[str, Any]) -> LiquidityValidator:
    s = _settings("liquidity", section)
    return LiquidityValidator(
        contracts(s["min_volume"]),
        contracts(s["min_open_interest"]),
        contracts(s["min_volume_24h"]),
    )


def make_categories(section: Mapping[str, Any]) -> CategoriesValidator:
    return CategoriesValidator(**_settings("categories", section))


def make_time_to_close(section: Mapping[str, Any]) -> TimeToCloseValidator:
    s = _settings("time_to_close", section)
    return TimeToCloseValidator(_seconds(s["min_seconds"]), _seconds(s["max_seconds"]))


def make_positions(section: Mapping[str, Any]) -> PositionsValidator:
    return PositionsValidator(int(_settings("positions", section)["max_open_positions"]))


def make_spread(section: Mapping[str, Any]) -> SpreadValidator:
    return SpreadValidator(cents(_settings("spread", section)["max_spread_cents"]))


def make_exposure(section: Mapping[str, Any]) -> ExposureValidator:
    s = _settings("exposure", section)
    return ExposureValidator(share(s["max_market_pct"]), share(s["max_event_pct"]))


def make_cash_reserve(section: Mapping[str, Any]) -> CashReserveValidator:
    return CashReserveValidator(share(_settings("cash_reserve", section)["min_cash_pct"]))


def make_min_edge(section: Mapping[str, Any]) -> MinEdgeValidator:
    s = _settings("min_edge", section)
    return MinEdgeValidator(
        cents(s["min_edge_cents"], "min_edge_cents"), uncertainty=uncertainty_rule(s)
    )


FACTORIES: dict[str, Callable[[Mapping[str, Any]], object]] = {
    "ai_budget": make_ai_budget,
    "dedup": make_dedup,
    "liquidity": make_liquidity,
    "categories": make_categories,
    "time_to_close": make_time_to_close,
    "positions": make_positions,
    "spread": make_spread,
    "exposure": make_exposure,
    "cash_reserve": make_cash_reserve,
    "min_edge": make_min_edge,
}


@hookimpl
def register_settings(register: Any) -> None:
    for name, defaults in DEFAULTS.items():
        rules = _rules_for(name)
        register(
            f"validators.{name}", dict(defaults), [*rules, series_rule(name, _rules_by_key(name))]
        )


def _rules_by_key(name: str) -> dict[str, Rule]:
    return {rule.key.rsplit(".", 1)[1]: rule for rule in _rules_for(name)}


@hookimpl
def register_validators(register: Any) -> None:
    for name, factory in FACTORIES.items():
        register(name, by_series(name, factory, _rules_by_key(name)))
