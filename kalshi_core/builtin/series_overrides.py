"""Per-series settings for validators: ``[validators.<name>.series.<SERIES>]``.

One global ``time_to_close`` cannot fit both a month-long index market and a 15-minute
crypto market. A validator's section may hold a ``series`` table whose sub-tables override
any of its keys for the markets of one series (matched case-insensitively on the market's
series ticker, the event ticker's prefix):

    [default.validators.time_to_close.series.KXBTC15M]
    min_seconds = 60
    max_seconds = 1800

Each override is checked with the validator's own rules and built with its own factory at
start-up, so a typo in a key or a value out of range is an error naming the series.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kalshi_core.errors import ConfigError
from kalshi_core.models import Forecast, Market, OrderIntent, Verdict
from kalshi_core.protocols import IntentValidator, PipelineContext, Validator
from kalshi_core.settings_rules import Rule

SERIES_KEY = "series"
Factory = Callable[[Mapping[str, Any]], object]


class _BySeries:
    """Delegates to the validator built for the market's series, else the default one."""

    def __init__(self, default: Any, overrides: Mapping[str, Any]) -> None:
        self.default = default
        self.overrides = dict(overrides)
        self.name: str = default.name

    def for_market(self, market: Market) -> Any:
        return self.overrides.get(market.series_ticker.casefold(), self.default)

    def __getattr__(self, attribute: str) -> Any:  # wants_orderbook, min_edge, ...
        if attribute == "default":  # not set yet (a copy being built): no recursion
            raise AttributeError(attribute)
        return getattr(self.default, attribute)


class SeriesValidator(_BySeries):
    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        verdict: Verdict = self.for_market(market).validate(market, context)
        return verdict


class SeriesIntentValidator(_BySeries):
    def validate_intent(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict:
        chosen = self.for_market(market)
        verdict: Verdict = chosen.validate_intent(intent, market, forecast, context)
        return verdict


class SeriesBothValidator(SeriesValidator, SeriesIntentValidator):
    pass


def _wrap(default: object, overrides: Mapping[str, object]) -> object:
    both = isinstance(default, Validator), isinstance(default, IntentValidator)
    kind = {
        (True, True): SeriesBothValidator,
        (True, False): SeriesValidator,
        (False, True): SeriesIntentValidator,
    }.get(both)
    if kind is None:
        raise ConfigError(f"{type(default).__name__} is not a validator: no per-series settings")
    return kind(default, overrides)


def check_override(owner: str, series: str, table: Any, rules: Mapping[str, Rule]) -> None:
    """An override table's keys must be the validator's and its values within their rules."""
    where = f"validators.{owner}.{SERIES_KEY}.{series}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table of {owner}'s settings, got {table!r}")
    for key, value in table.items():
        rule = rules.get(str(key))
        if rule is None:
            known = ", ".join(sorted(rules))
            raise ConfigError(f"{where}: unknown key {key!r} (the keys of {owner}: {known})")
        problem = rule.problem(value)
        if problem is not None:
            raise ConfigError(f"{where}.{key} = {value!r} {problem}: {rule.allowed()}")


def by_series(owner: str, factory: Factory, rules: Mapping[str, Rule]) -> Factory:
    """``factory`` that honours ``series`` overrides in its section."""

    def build(section: Mapping[str, Any]) -> object:
        base = {k: v for k, v in section.items() if k != SERIES_KEY}
        tables = section.get(SERIES_KEY) or {}
        if not isinstance(tables, Mapping):
            raise ConfigError(f"validators.{owner}.{SERIES_KEY} must be a table of series tables")
        default = factory(base)
        if not tables:
            return default
        overrides = {}
        for series, table in tables.items():
            check_override(owner, str(series), table, rules)
            overrides[str(series).casefold()] = factory({**base, **table})
        return _wrap(default, overrides)

    return build


def series_rule(owner: str, rules: Mapping[str, Rule]) -> Rule:
    """The rule of ``validators.<owner>.series``: a table of series tables, each checked
    with the validator's own rules (so ``config validate`` reports a bad override)."""

    def problem(tables: Any) -> str | None:
        try:
            for series, table in tables.items():
                check_override(owner, str(series), table, rules)
        except ConfigError as error:
            return f"has a bad override: {error}"
        return None

    return Rule(
        key=f"validators.{owner}.{SERIES_KEY}",
        types=(dict,),
        required=False,
        description=f"per-series overrides: [validators.{owner}.{SERIES_KEY}.<SERIES>]",
        check=problem,
    )
