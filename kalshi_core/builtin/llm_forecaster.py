"""Built-in forecaster ``llm``: an OpenAI-compatible chat model, or an ensemble of them.

Settings live in ``forecasters.llm`` (see :mod:`kalshi_core.forecasting.llm_config`); put the
API key in ``.secrets.toml`` or ``KALSHI_FORECASTERS__LLM__API_KEY``, never in a shared file.
"""

from __future__ import annotations

from typing import Any

from kalshi_core.forecasting.llm import COMBINE_RULES, NAME, RESPONSE_FORMATS
from kalshi_core.forecasting.llm_config import SECTION, make_llm
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule

NUMBER = (int, float)

DEFAULTS: dict[str, Any] = {
    "base_url": "https://api.openai.com/v1",
    "api_key": "",
    "model": "gpt-4o-mini",
    "models": [],
    "prices": {"gpt-4o-mini": {"input": "0.15", "output": "0.60"}},
    "temperature": 0.0,
    "timeout_seconds": 30.0,
    "max_tokens": 600,
    "max_retries": 0,
    "daily_budget_dollars": 5.0,
    "combine": "mean",
    "min_members": 1,
    "response_format": "json_schema",
    "context_provider": "",
    "min_stderr_cents": 2,
    "history_points": 12,
}


def _key(name: str) -> str:
    return f"{SECTION}.{name}"


RULES = [
    Rule(key=_key("base_url"), types=(str,), description="OpenAI-compatible API base URL"),
    Rule(key=_key("api_key"), types=(str,), secret=True, description="API key for base_url"),
    Rule(key=_key("model"), types=(str,), description="model name when models is empty"),
    Rule(
        key=_key("models"),
        types=(list,),
        description="ensemble: names or {model, base_url, api_key, weight} tables",
    ),
    Rule(
        key=_key("prices"),
        types=(dict,),
        description="model -> {input, output} $ per million tokens",
    ),
    Rule(key=_key("temperature"), types=NUMBER, minimum=0, maximum=2),
    Rule(
        key=_key("timeout_seconds"),
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=600,
        description="per request",
    ),
    Rule(
        key=_key("max_tokens"),
        types=(int,),
        minimum=1,
        maximum=100_000,
        description="longest reply",
    ),
    Rule(
        key=_key("max_retries"),
        types=(int,),
        minimum=0,
        maximum=10,
        description="client retries of a failed request (each may cost money)",
    ),
    Rule(
        key=_key("daily_budget_dollars"),
        types=(*NUMBER, str),
        description="hard cap on model spend per day; no call is made that could exceed it",
    ),
    Rule(
        key=_key("combine"),
        types=(str,),
        choices=COMBINE_RULES,
        description="how ensemble answers are combined",
    ),
    Rule(
        key=_key("min_members"),
        types=(int,),
        minimum=1,
        maximum=100,
        description="ensemble members that must answer",
    ),
    Rule(
        key=_key("response_format"),
        types=(str,),
        choices=RESPONSE_FORMATS,
        description="structured-output mode the endpoint supports",
    ),
    Rule(
        key=_key("context_provider"),
        types=(str,),
        description='"package.module:factory" of a context (news) provider; "" = none',
    ),
    Rule(
        key=_key("min_stderr_cents"),
        types=NUMBER,
        minimum=0,
        maximum=50,
        description="floor of any stderr the forecaster states (no claimed certainty)",
    ),
    Rule(
        key=_key("history_points"),
        types=(int,),
        minimum=0,
        maximum=200,
        description="quotes of a market seen before, shown in the prompt",
    ),
]


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, DEFAULTS, RULES)


@hookimpl
def register_forecasters(register: Any) -> None:
    register(NAME, make_llm)
