"""The validator stages of the pipeline as pure functions the engine calls.

:func:`screen_market` runs the candidate stage (:class:`~kalshi_core.protocols.Validator`),
:func:`screen_intents` the intent stage (:class:`~kalshi_core.protocols.IntentValidator`).
A validator may implement either stage or both; each function runs only the stage a
validator implements, and nothing rejected by one validator is passed on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from kalshi_core.models import Forecast, Market, OrderIntent, Verdict
from kalshi_core.protocols import IntentValidator, PipelineContext, Validator


@attrs.frozen(kw_only=True)
class ScreenedIntents:
    """The intents every intent validator accepted, and each rejected one with its verdict."""

    passed: tuple[OrderIntent, ...] = ()
    rejected: tuple[tuple[OrderIntent, Verdict], ...] = ()


def split_stages(
    validators: Iterable[object],
) -> tuple[tuple[Validator, ...], tuple[IntentValidator, ...]]:
    """The candidate-stage and intent-stage validators, in order (a validator may be both).

    Sort once, not per market: a protocol ``isinstance`` check costs microseconds."""
    listed = list(validators)
    candidate = tuple(v for v in listed if isinstance(v, Validator))
    intent = tuple(v for v in listed if isinstance(v, IntentValidator))
    return candidate, intent


def screen_market(
    market: Market, validators: Iterable[object], context: PipelineContext
) -> list[Verdict]:
    """Candidate-stage verdicts, stopping at the first rejection (its reason is stored)."""
    return run_candidate_stage(market, split_stages(validators)[0], context)


def run_candidate_stage(
    market: Market, validators: Sequence[Validator], context: PipelineContext
) -> list[Verdict]:
    """:func:`screen_market` over validators already known to be candidate-stage ones."""
    verdicts: list[Verdict] = []
    for validator in validators:
        verdict = validator.validate(market, context)
        verdicts.append(verdict)
        if not verdict.accepted:
            break
    return verdicts


def first_rejection(
    intent: OrderIntent,
    validators: Sequence[IntentValidator],
    market: Market,
    forecast: Forecast | None,
    context: PipelineContext,
) -> Verdict | None:
    """The first intent-stage verdict that rejects ``intent``, or ``None`` if all accept."""
    for validator in validators:
        verdict = validator.validate_intent(intent, market, forecast, context)
        if not verdict.accepted:
            return verdict
    return None


def screen_intents(
    intents: Iterable[OrderIntent],
    validators: Iterable[object],
    market: Market,
    forecast: Forecast | None,
    context: PipelineContext,
) -> ScreenedIntents:
    """Run every intent validator on every intent; keep those that no validator rejects."""
    return run_intent_stage(intents, split_stages(validators)[1], market, forecast, context)


def run_intent_stage(
    intents: Iterable[OrderIntent],
    stage: Sequence[IntentValidator],
    market: Market,
    forecast: Forecast | None,
    context: PipelineContext,
) -> ScreenedIntents:
    """:func:`screen_intents` over validators already known to be intent-stage ones."""
    passed: list[OrderIntent] = []
    rejected: list[tuple[OrderIntent, Verdict]] = []
    for intent in intents:
        verdict = first_rejection(intent, stage, market, forecast, context)
        if verdict is None:
            passed.append(intent)
        else:
            rejected.append((intent, verdict))
    return ScreenedIntents(passed=tuple(passed), rejected=tuple(rejected))
