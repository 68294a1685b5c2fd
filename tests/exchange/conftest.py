"""Fixtures for the local exchange tests: a manual clock and a venue with two open markets."""

from __future__ import annotations

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import FeeSchedule, Venue
from kalshi_core.models import FeeType

from .support import FUNDS, START, make_market, tapered_market


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def venue(clock: ManualClock) -> Venue:
    v = Venue(clock)
    v.list_market(make_market())
    v.list_market(tapered_market(), fractional=True)
    for name in ("alice", "bob", "carol"):
        v.deposit(name, FUNDS)
    return v


@pytest.fixture
def maker_fee_venue(clock: ManualClock) -> Venue:
    v = Venue(clock)
    v.list_market(make_market(), fees=FeeSchedule(fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES))
    for name in ("alice", "bob"):
        v.deposit(name, FUNDS)
    return v
