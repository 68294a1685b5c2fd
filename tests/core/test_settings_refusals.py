"""Wrong settings are refused at start-up with a message naming the key, what it holds and what
is allowed; the Rule wording the messages are made of says exactly that."""

from __future__ import annotations

import pytest

from kalshi_core.errors import ConfigError
from kalshi_core.settings_rules import Rule
from kalshi_core.testing.pytest_plugin import AppFactory


def test_a_list_setting_given_one_string_says_how_to_write_the_list(
    kalshi_app_factory: AppFactory,
) -> None:
    with pytest.raises(ConfigError) as refused:
        kalshi_app_factory(settings={"strategies.enabled": "directional"}).check()
    message = str(refused.value)
    assert "strategies.enabled" in message
    assert "is a string, not a list (write ['directional'])" in message


def test_a_boolean_where_a_number_belongs_is_refused(kalshi_app_factory: AppFactory) -> None:
    with pytest.raises(ConfigError) as refused:
        kalshi_app_factory(settings={"risk.max_position_pct": True}).check()
    assert "risk.max_position_pct" in str(refused.value)
    assert "bool" in str(refused.value)


def test_problems_name_what_is_wrong() -> None:
    level = Rule(key="logging.level", types=(str,), choices=("info", "debug"))
    assert level.problem("loud") == "is not an allowed value"
    assert level.problem(None) == "is required"
    assert Rule(key="x", types=(str,), required=False).problem(None) is None
    assert Rule(key="x", types=(int,)).problem(True) == "has the wrong type bool"
    assert Rule(key="x", types=(bool,)).problem(True) is None
    assert Rule(key="x", types=(int,)).problem("3") == "has the wrong type str"


def test_list_items_are_checked_one_by_one() -> None:
    channels = Rule(key="alerts.channels", types=(list,), each_choice=("slack", "email"))
    assert channels.problem(["slack", "email"]) is None
    assert channels.problem(["slack", "pager"]) == "contains a value that is not allowed"
    assert channels.allowed() == "a list of items from 'slack', 'email'"


def test_a_content_check_replaces_the_range_check() -> None:
    def positive_entries(table: object) -> str | None:
        bad = [k for k, v in dict(table).items() if v <= 0]  # type: ignore[call-overload]
        return f"entries {bad} are not positive" if bad else None

    limits = Rule(key="risk.per_series", types=(dict,), check=positive_entries, minimum=100)
    assert limits.problem({"KXA": 1, "KXB": 0}) == "entries ['KXB'] are not positive"
    assert limits.problem({"KXA": 1}) is None


def test_range_wording_and_bounds() -> None:
    pct = Rule(
        key="risk.max_position_pct",
        types=(int, float),
        minimum=0,
        exclusive_minimum=True,
        maximum=1,
        description="of equity",
    )
    assert pct.allowed() == "a number above 0 and at most 1 (of equity)"
    assert pct.problem(0) is not None
    assert pct.problem(0.5) is None
    assert pct.problem(1.5) is not None
    at_least = Rule(key="run.cycle_seconds", types=(int,), minimum=1)
    assert at_least.allowed() == "an integer at least 1"
    assert at_least.problem(0) is not None
