"""Strict validation of the model's JSON answer."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.forecasting.answers import AnswerRejected, RejectionReason, parse_answer


def _reply(**fields: object) -> str:
    answer: dict[str, object] = {"probability": 0.25, "confidence": 0.5, "reasoning": "because"}
    answer.update(fields)
    return json.dumps(answer)


def test_plain_json_answer() -> None:
    answer = parse_answer(_reply(probability=0.4213, confidence=1))
    assert (answer.probability, answer.confidence, answer.reasoning) == (4213, 10_000, "because")


def test_json_inside_prose_and_fence() -> None:
    text = "Sure {not json} here:\n```json\n" + _reply(probability=0.9) + "\n```\nthanks"
    assert parse_answer(text).probability == 9000


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", RejectionReason.MALFORMED),
        ("I think about 60%.", RejectionReason.MALFORMED),
        ('{"probability": 0.6, "confidence": 0.5', RejectionReason.MALFORMED),
        ('{"probability": 0.6, "confidence": 0.5}', RejectionReason.MALFORMED),
        (_reply(extra=1), RejectionReason.MALFORMED),
        (_reply(probability="0.6"), RejectionReason.MALFORMED),
        (_reply(probability=True), RejectionReason.MALFORMED),
        (_reply(reasoning=None), RejectionReason.MALFORMED),
        (_reply(probability=62), RejectionReason.OUT_OF_RANGE),
        (_reply(probability=-0.01), RejectionReason.OUT_OF_RANGE),
        (_reply(confidence=1.5), RejectionReason.OUT_OF_RANGE),
        ('{"probability": NaN, "confidence": 0.5, "reasoning": "x"}', RejectionReason.OUT_OF_RANGE),
    ],
)
def test_rejections(text: str, reason: RejectionReason) -> None:
    with pytest.raises(AnswerRejected) as caught:
        parse_answer(text)
    assert caught.value.reason is reason


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_any_valid_answer_maps_into_basis_points(probability: float, confidence: float) -> None:
    answer = parse_answer(_reply(probability=probability, confidence=confidence))
    assert 0 <= answer.probability <= 10_000
    assert abs(answer.probability - probability * 10_000) <= 0.5
    assert abs(answer.confidence - confidence * 10_000) <= 0.5


@given(st.floats(allow_nan=False).filter(lambda x: not 0 <= x <= 1))
def test_any_out_of_range_probability_is_rejected(probability: float) -> None:
    with pytest.raises(AnswerRejected) as caught:
        parse_answer(_reply(probability=probability))
    assert caught.value.reason is RejectionReason.OUT_OF_RANGE


def test_a_90_percent_interval_gives_the_stderr() -> None:
    # [0.55, 0.71]: 1600 bp wide / (2 x 1.6449) = 486.35 -> 486
    answer = parse_answer(_reply(probability=0.62, low=0.55, high=0.71))
    assert answer.stderr == 486
    assert parse_answer(_reply(low=None, high=None)).stderr is None
    assert parse_answer(_reply()).stderr is None
    assert parse_answer(_reply(probability=0.3, low=0.3, high=0.3)).stderr == 0


@pytest.mark.parametrize(
    ("fields", "reason", "words"),
    [
        ({"low": 0.1}, RejectionReason.MALFORMED, "both low and high"),
        ({"low": 0.3, "high": 0.2}, RejectionReason.OUT_OF_RANGE, "does not contain"),
        ({"low": 0.3, "high": 0.9}, RejectionReason.OUT_OF_RANGE, "does not contain"),
        ({"low": -0.1, "high": 0.5}, RejectionReason.OUT_OF_RANGE, "outside 0..1"),
        ({"low": 0.1, "high": "0.5"}, RejectionReason.MALFORMED, "high is str"),
        ({"low": 0.1, "high": 1e308 * 10}, RejectionReason.OUT_OF_RANGE, "outside 0..1"),
    ],
)
def test_hostile_intervals_are_rejected(
    fields: dict[str, object], reason: RejectionReason, words: str
) -> None:
    with pytest.raises(AnswerRejected, match=words) as caught:
        parse_answer(_reply(**fields))
    assert caught.value.reason is reason
