"""The grouped bootstrap: deterministic, honest about clustering, and strict about its input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.stats import Interval, bootstrap, group_samples, mean


def test_same_seed_same_interval_and_another_seed_differs() -> None:
    samples = [float(i % 7) for i in range(60)]
    first = bootstrap(samples, mean, seed=3)
    assert bootstrap(samples, mean, seed=3) == first
    assert bootstrap(samples, mean, seed=4) != first
    assert first.low <= first.estimate <= first.high


def test_grouping_widens_the_interval_of_clustered_outcomes() -> None:
    """Ten events of ten perfectly correlated markets carry ten samples' worth of information."""
    outcomes = [(event, float(event % 2)) for event in range(10) for _ in range(10)]
    naive = bootstrap(outcomes, lambda xs: mean([x for _, x in xs]))
    by_event = bootstrap(outcomes, lambda xs: mean([x for _, x in xs]), group_of=lambda s: s[0])
    assert by_event.groups == 10
    assert by_event.high - by_event.low > 2 * (naive.high - naive.low)


def test_a_difference_whose_interval_contains_zero_is_not_significant() -> None:
    noise = [(-1.0) ** i * 0.01 for i in range(40)]
    interval = bootstrap(noise, mean)
    assert interval.contains(0.0)
    assert not interval.significant()
    assert bootstrap([1.0 + x for x in noise], mean).significant()


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5])
def test_a_level_outside_zero_one_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="level"):
        bootstrap([1.0, 2.0], mean, level=level)


def test_no_samples_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        bootstrap([], mean)


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40))
def test_groups_keep_every_sample_in_first_seen_order(keys: list[int]) -> None:
    groups = group_samples(keys, lambda k: k)
    assert sorted(x for g in groups for x in g) == sorted(keys)
    assert [g[0] for g in groups] == list(dict.fromkeys(keys))


def test_interval_serialises_every_field() -> None:
    interval = Interval(estimate=0.1, low=-0.2, high=0.3, groups=5)
    assert interval.as_dict()["groups"] == 5
    assert set(interval.as_dict()) == {"estimate", "low", "high", "level", "resamples", "groups"}
