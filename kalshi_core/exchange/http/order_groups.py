"""Order groups under ``/portfolio/order_groups`` (SDK 3.34 ``OrderGroupsApi``): create, list,
get, trigger, reset, update the limit and delete. The rules live in
:mod:`kalshi_core.exchange.order_groups`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.base import Handlers, RouteSpec
from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.params import json_object, parse_count_field, subaccount_field
from kalshi_core.exchange.http.shapes import json_body
from kalshi_core.exchange.order_groups import OrderGroup
from kalshi_core.money import CONTRACT, Count, format_count

GROUPS = "/portfolio/order_groups"
ONE = f"{GROUPS}/{{order_group_id}}"


def _whole_limit(whole: Any) -> Count | None:
    if whole is None:
        return None
    if isinstance(whole, bool) or not isinstance(whole, int):
        raise bad(f"field contracts_limit must be a whole number of contracts, got {whole!r}")
    return whole * CONTRACT


def _fixed_limit(fixed: Any) -> Count | None:
    if fixed is None:
        return None
    if not isinstance(fixed, str):
        raise bad(f'field contracts_limit_fp must be a count string like "10.00", got {fixed!r}')
    return parse_count_field(fixed, "contracts_limit_fp")


def contracts_limit(body: dict[str, Any]) -> Count:
    """``contracts_limit`` (whole contracts) and/or ``contracts_limit_fp``; both must agree."""
    whole, fixed = body.get("contracts_limit"), body.get("contracts_limit_fp")
    from_whole, from_fixed = _whole_limit(whole), _fixed_limit(fixed)
    if from_whole is None and from_fixed is None:
        raise bad("give contracts_limit or contracts_limit_fp")
    if from_fixed is not None and from_whole is not None and from_fixed != from_whole:
        raise bad(f"contracts_limit {whole} and contracts_limit_fp {fixed!r} disagree")
    found = from_fixed if from_fixed is not None else from_whole
    assert found is not None  # one of them was given (checked above)
    return found


def group_summary(group: OrderGroup) -> dict[str, Any]:
    """The SDK's ``OrderGroup`` (``is_triggered`` is the local exchange's addition)."""
    return {
        "id": group.group_id,
        "contracts_limit_fp": format_count(group.contracts_limit),
        "is_auto_cancel_enabled": True,
        "is_triggered": group.triggered,
        "exchange_index": 0,
    }


class OrderGroupHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("POST", f"{GROUPS}/create", "create"),
        ("GET", GROUPS, "list_groups"),
        ("GET", ONE, "get_group"),
        ("DELETE", ONE, "delete"),
        ("PUT", f"{ONE}/trigger", "trigger"),
        ("PUT", f"{ONE}/reset", "reset"),
        ("PUT", f"{ONE}/limit", "update_limit"),
    )

    def _target(self, request: Request) -> tuple[str, str]:
        """The ``subaccount``'s account (default 0) and the path's group id."""
        return self._queried(request), request.path_params["order_group_id"]

    def _sweep_now(self) -> datetime:
        self.venue.advance()  # expiries and arrivals the clock passed come first
        return self._now()

    async def create(self, request: Request) -> Response:
        body = await json_object(request)
        number = subaccount_field(body) or 0
        limit = contracts_limit(body)
        group = self.venue.order_groups.create(self._subaccount(request, number), limit)
        created = {"order_group_id": group.group_id, "subaccount": number, "exchange_index": 0}
        return json_body(created, 201)

    async def list_groups(self, request: Request) -> Response:
        groups = [g for a in self._scope(request) for g in self.venue.order_groups.of_account(a)]
        return json_body({"order_groups": [group_summary(g) for g in groups]})

    async def get_group(self, request: Request) -> Response:
        group = self._any_group(request, request.path_params["order_group_id"])
        detail = {k: v for k, v in group_summary(group).items() if k != "id"}
        return json_body({**detail, "orders": list(group.order_ids)})

    def _any_group(self, request: Request, group_id: str) -> OrderGroup:
        """The group in the ``subaccount`` given, or in any of the user's when omitted."""
        for account_id in self._scope(request):
            if any(g.group_id == group_id for g in self.venue.order_groups.of_account(account_id)):
                return self.venue.order_groups.get(account_id, group_id)
        raise rules.reject(rules.NOT_FOUND, f"order group {group_id} not found")

    async def trigger(self, request: Request) -> Response:
        account_id, group_id = self._target(request)
        self.venue.order_groups.trigger(account_id, group_id, self._sweep_now())
        return json_body({})

    async def reset(self, request: Request) -> Response:
        self.venue.order_groups.reset(*self._target(request))
        return json_body({})

    async def delete(self, request: Request) -> Response:
        account_id, group_id = self._target(request)
        self.venue.order_groups.delete(account_id, group_id, self._sweep_now())
        return json_body({})

    async def update_limit(self, request: Request) -> Response:
        account_id, group_id = self._target(request)
        limit = contracts_limit(await json_object(request))
        self.venue.order_groups.set_limit(account_id, group_id, limit, self._sweep_now())
        return json_body({})
