"""The model's answer: a JSON object ``{probability, confidence, reasoning}``, checked strictly.

The JSON may be the whole reply or embedded in prose or a code fence. Anything else is
rejected with a :class:`RejectionReason`: a refusal, malformed JSON, a missing or extra key, a
wrong type, or a number outside 0..1. A rejected answer is never turned into a forecast.
"""

from __future__ import annotations

import enum
import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from kalshi_core.money import DOLLAR

ANSWER_KEYS = ("probability", "confidence", "reasoning")

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reasoning": {"type": "string"},
    },
    "required": list(ANSWER_KEYS),
    "additionalProperties": False,
}


class RejectionReason(enum.Enum):
    """Why a forecaster call produced no forecast."""

    REFUSED = "refused"
    MALFORMED = "malformed"
    OUT_OF_RANGE = "out_of_range"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    CONNECTION_ERROR = "connection_error"
    OVER_BUDGET = "over_budget"
    TOO_FEW_MEMBERS = "too_few_members"


class AnswerRejected(Exception):
    """The reply is not an acceptable answer; ``reason`` says which way it failed."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


@attrs.frozen(kw_only=True)
class Answer:
    """A validated answer; probability and confidence in basis points (0..10,000)."""

    probability: int
    confidence: int
    reasoning: str


def _embedded_object(text: str) -> dict[str, Any] | None:
    """The first JSON object found in ``text`` (whole, fenced or inside prose)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _unit_interval(payload: dict[str, Any], key: str) -> int:
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerRejected(RejectionReason.MALFORMED, f"{key} is {type(value).__name__}")
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise AnswerRejected(RejectionReason.OUT_OF_RANGE, f"{key} {value!r} is outside 0..1")
    units = Decimal(repr(value)) * DOLLAR
    return int(units.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_answer(content: str | None) -> Answer:
    """Validate a reply's text against :data:`ANSWER_SCHEMA`; raise :class:`AnswerRejected`."""
    if not content or not content.strip():
        raise AnswerRejected(RejectionReason.MALFORMED, "empty reply")
    payload = _embedded_object(content)
    if payload is None:
        raise AnswerRejected(RejectionReason.MALFORMED, f"no JSON object in {content[:80]!r}")
    keys = set(payload)
    if keys != set(ANSWER_KEYS):
        missing = sorted(set(ANSWER_KEYS) - keys)
        extra = sorted(keys - set(ANSWER_KEYS))
        raise AnswerRejected(RejectionReason.MALFORMED, f"missing keys {missing}, extra {extra}")
    if not isinstance(payload["reasoning"], str):
        raise AnswerRejected(RejectionReason.MALFORMED, "reasoning is not a string")
    return Answer(
        probability=_unit_interval(payload, "probability"),
        confidence=_unit_interval(payload, "confidence"),
        reasoning=payload["reasoning"].strip(),
    )
