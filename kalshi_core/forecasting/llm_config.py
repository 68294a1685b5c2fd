"""Build the ``llm`` forecaster from its settings section ``forecasters.llm``.

``models`` lists the ensemble: each item is a model name (reached at the section's
``base_url`` with its ``api_key``) or a table ``{model, base_url, api_key, weight}``; an empty
list means the single model ``model``. ``prices`` maps each model name (case-insensitive) to
``{input, output}`` dollars per million tokens; a model without a price is a configuration
error, because the daily budget could not be kept (give ``0`` for a free local model).
``context_provider`` optionally names ``package.module:factory``; the factory is called with
the section and returns a :class:`~kalshi_core.forecasting.prompts.ContextProvider`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from kalshi_core.engine.units import cents
from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.budget import ModelPrice, dollars_setting
from kalshi_core.forecasting.llm import LLMForecaster, LLMOptions, Member
from kalshi_core.forecasting.prompts import ContextProvider

SECTION = "forecasters.llm"


def model_price(prices: Mapping[str, Any], model: str) -> ModelPrice:
    """The configured price of ``model``, converted once to integer money per million tokens."""
    by_name = {str(name).lower(): value for name, value in prices.items()}
    entry = by_name.get(model.lower())
    if not isinstance(entry, Mapping) or "input" not in entry or "output" not in entry:
        raise ConfigError(
            f"{SECTION}.prices has no price for model {model!r}: add "
            f'prices."{model}" = {{input = "<$ per million>", output = "<$ per million>"}} '
            "(0 for a free local model)"
        )
    where = f"{SECTION}.prices.{model}"
    return ModelPrice(
        input_per_million=dollars_setting(entry["input"], f"{where}.input"),
        output_per_million=dollars_setting(entry["output"], f"{where}.output"),
    )


def _member(item: Any, section: Mapping[str, Any], prices: Mapping[str, Any]) -> Member:
    table = {"model": item} if isinstance(item, str) else item
    if not isinstance(table, Mapping) or not isinstance(table.get("model"), str):
        raise ConfigError(f"{SECTION}.models: each item is a model name or a table with model")
    weight = table.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        raise ConfigError(f"{SECTION}.models: weight of {table['model']!r} must be above 0")
    return Member(
        model=table["model"],
        base_url=str(table.get("base_url") or section.get("base_url", "")),
        api_key=str(table.get("api_key") or section.get("api_key", "")),
        weight=float(weight),
        price=model_price(prices, table["model"]),
    )


def members_from(section: Mapping[str, Any]) -> tuple[Member, ...]:
    items = list(section.get("models") or []) or [section.get("model", "")]
    prices = section.get("prices") or {}
    members = tuple(_member(item, section, prices) for item in items)
    if any(not m.model or not m.base_url for m in members):
        raise ConfigError(f"{SECTION}: every model needs a name and a base_url")
    return members


def options_from(section: Mapping[str, Any]) -> LLMOptions:
    members = members_from(section)
    min_members = int(section.get("min_members", 1))
    if min_members > len(members):
        raise ConfigError(
            f"{SECTION}.min_members is {min_members} but only {len(members)} models are listed"
        )
    return LLMOptions(
        members=members,
        temperature=float(section.get("temperature", 0.0)),
        timeout_seconds=float(section.get("timeout_seconds", 30.0)),
        max_tokens=int(section.get("max_tokens", 600)),
        max_retries=int(section.get("max_retries", 0)),
        daily_budget=dollars_setting(
            section.get("daily_budget_dollars", 0), f"{SECTION}.daily_budget_dollars"
        ),
        combine=str(section.get("combine", "mean")),
        min_members=min_members,
        response_format=str(section.get("response_format", "json_schema")),
        min_stderr=cents(section.get("min_stderr_cents", 2), f"{SECTION}.min_stderr_cents"),
        history_points=int(section.get("history_points", 12)),
    )


def context_provider_from(section: Mapping[str, Any]) -> ContextProvider | None:
    target = str(section.get("context_provider") or "")
    if not target:
        return None
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"{SECTION}.context_provider {target!r} cannot be loaded: {exc}"
        ) from None
    provider = factory(section)
    if not isinstance(provider, ContextProvider):
        raise ConfigError(f"{SECTION}.context_provider {target!r} has no async context_for")
    return provider


def make_llm(section: Mapping[str, Any]) -> LLMForecaster:
    """Factory for the registry."""
    return LLMForecaster(options_from(section), context_provider_from(section))
