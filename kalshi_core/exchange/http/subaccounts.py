"""Subaccounts under ``/portfolio/subaccounts`` (SDK 3.34 ``PortfolioApi``): create one, list
their balances, transfer cash between them and list the transfers. The rules live in
:mod:`kalshi_core.exchange.subaccounts`; the other portfolio and order routes take a
``subaccount`` of their own."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange.http.base import Handlers, RouteSpec, account
from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.pages import PORTFOLIO_LIMITS, Listing, micros, paginate
from kalshi_core.exchange.http.params import int_field, json_object
from kalshi_core.exchange.http.shapes import epoch_seconds, json_body
from kalshi_core.exchange.subaccounts import MAX_SUBACCOUNT, SubaccountTransfer
from kalshi_core.money import format_dollars

SUBACCOUNTS = "/portfolio/subaccounts"
TRANSFERS: Listing[SubaccountTransfer] = Listing(
    "subaccount_transfers",
    lambda t: (micros(t.created_time), t.transfer_id),
    (int, str),
    newest_first=True,
)
# The SDK sends str(uuid.UUID): the hyphenated form, which is also what keys a retry.
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Beyond any real balance, so a "huge" amount is an overdraft and never a float or overflow.
MAX_TRANSFER_CENTS = 10**15


def client_transfer_id(body: dict[str, Any]) -> str:
    """The body's ``client_transfer_id``: a UUID string, lower-cased so a retry matches."""
    value = body.get("client_transfer_id")
    if not isinstance(value, str) or _UUID.fullmatch(value) is None:
        shown = repr(value)[:60]
        raise bad(f"field client_transfer_id={shown} must be a UUID string")
    return value.lower()


def exchange_index(body: dict[str, Any]) -> None:
    """The local exchange is one shard: ``exchange_index`` may only be absent or 0."""
    if body.get("exchange_index") is not None:
        int_field(body, "exchange_index", 0, 0)


def transfer_json(transfer: SubaccountTransfer) -> dict[str, Any]:
    """The SDK's ``SubaccountTransfer``."""
    return {
        "transfer_id": transfer.transfer_id,
        "from_subaccount": transfer.from_subaccount,
        "to_subaccount": transfer.to_subaccount,
        "amount_cents": transfer.amount_cents,
        "created_ts": epoch_seconds(transfer.created_time),
        "exchange_index": 0,
    }


class SubaccountHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("POST", SUBACCOUNTS, "create"),
        ("GET", f"{SUBACCOUNTS}/balances", "balances"),
        ("POST", f"{SUBACCOUNTS}/transfer", "transfer"),
        ("GET", f"{SUBACCOUNTS}/transfers", "transfers"),
    )

    async def create(self, request: Request) -> Response:
        exchange_index(await json_object(request))
        number = self.venue.create_subaccount(account(request))
        return json_body({"subaccount_number": number}, 201)

    async def balances(self, request: Request) -> Response:
        user, updated = account(request), epoch_seconds(self._now())
        rows = [
            {
                "subaccount_number": number,
                "exchange_index": 0,
                "balance": format_dollars(
                    self.venue.balance(self._subaccount(request, number)).balance
                ),
                "updated_ts": updated,
            }
            for number in self.venue.subaccounts(user)
        ]
        return json_body({"subaccount_balances": rows})

    async def transfer(self, request: Request) -> Response:
        body = await json_object(request)
        client_id = client_transfer_id(body)
        route = (
            int_field(body, "from_subaccount", 0, MAX_SUBACCOUNT),
            int_field(body, "to_subaccount", 0, MAX_SUBACCOUNT),
        )
        amount = int_field(body, "amount_cents", 1, MAX_TRANSFER_CENTS)
        exchange_index(body)
        self.venue.transfer(account(request), client_id, route, amount)
        return json_body({})

    async def transfers(self, request: Request) -> Response:
        made = self.venue.transfers(account(request))
        page, cursor = paginate(made, request, PORTFOLIO_LIMITS, TRANSFERS)
        return json_body({"transfers": [transfer_json(t) for t in page], "cursor": cursor})
