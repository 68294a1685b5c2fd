"""Subaccounts: numbered books of one user inside the venue, and cash transfers between them.

Subaccount 0 is the user's own account, unchanged; subaccount ``N`` >= 1 is an account of its
own (cash, reserve, holdings, orders, fills) whose id the venue derives from the user's. The
registry, not the id's spelling, says who owns an account, so no member id can pose as
another's subaccount. Kalshi numbers them 1 to 63 in the order they are created.

A transfer moves whole cents of free cash (not what resting orders hold) and carries the
client's ``client_transfer_id``: a retry with the same id and the same terms is answered as a
success and moves nothing; the same id with other terms is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import attrs

from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import Account
from kalshi_core.exchange.rules import reject
from kalshi_core.money import CENT

MAX_SUBACCOUNT = 63  # Kalshi: "Maximum 63 numbered subaccounts per user (64 with the primary)"
PRIMARY = 0


@attrs.frozen(kw_only=True)
class SubaccountTransfer:
    """One transfer of ``amount_cents`` between two subaccounts of ``user``."""

    transfer_id: str
    client_transfer_id: str
    user: str
    from_subaccount: int
    to_subaccount: int
    amount_cents: int
    created_time: datetime

    def same_terms(self, source: int, target: int, amount_cents: int) -> bool:
        return (self.from_subaccount, self.to_subaccount, self.amount_cents) == (
            source,
            target,
            amount_cents,
        )


class Subaccounts:
    """Every user's subaccounts and transfers. ``account`` opens a venue account by id."""

    def __init__(
        self, accounts: dict[str, Account], account: Callable[[str], Account], id_namespace: str
    ) -> None:
        self._accounts = accounts
        self._account = account
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, id_namespace)
        self._transfer_prefix = str(uuid.uuid5(namespace, "subaccount-transfer"))[:24]
        self._count: dict[str, int] = {}
        #: subaccount account id -> (user, number); subaccount 0 (the user's id) is not here.
        self.owners: dict[str, tuple[str, int]] = {}
        self._ids: dict[tuple[str, int], str] = {}
        self._transfers: dict[str, list[SubaccountTransfer]] = {}
        self._by_client_id: dict[tuple[str, str], SubaccountTransfer] = {}
        self._transfer_seq = 0

    def create(self, user: str) -> int:
        """Open the user's next numbered subaccount; 400 once it has ``MAX_SUBACCOUNT``."""
        number = self._count.get(user, 0) + 1
        if number > MAX_SUBACCOUNT:
            raise reject(
                rules.INVALID_PARAMETERS,
                f"{user} already has the most subaccounts Kalshi allows ({MAX_SUBACCOUNT})",
            )
        self._count[user] = number
        account_id = f"{user}#{number}"
        while account_id in self._accounts:  # a member already has that id: never share it
            account_id += "#"
        self.owners[account_id] = (user, number)
        self._ids[(user, number)] = account_id
        self._account(account_id)
        return number

    def numbers(self, user: str) -> list[int]:
        """The user's subaccounts, 0 (the primary) first."""
        return list(range(self._count.get(user, 0) + 1))

    def account_id(self, user: str, number: int) -> str:
        """The venue account of the user's subaccount ``number``; 400 if it does not exist."""
        if number == PRIMARY:
            return user
        found = self._ids.get((user, number))
        if found is None:
            raise reject(
                rules.INVALID_PARAMETERS,
                f"subaccount {number} does not exist for {user} (create it first)",
            )
        return found

    def owner(self, account_id: str) -> tuple[str, int]:
        """(user, subaccount number) of a venue account; a plain account is its own user's 0."""
        return self.owners.get(account_id, (account_id, PRIMARY))

    def same_user(self, first: str, second: str) -> bool:
        """Whether two accounts belong to one user (self-trade prevention spans subaccounts)."""
        if first == second:
            return True
        owners = self.owners
        if not owners:
            return False
        return owners.get(first, (first,))[0] == owners.get(second, (second,))[0]

    def transfers(self, user: str) -> list[SubaccountTransfer]:
        return list(self._transfers.get(user, []))

    def transfer(
        self,
        user: str,
        client_transfer_id: str,
        route: tuple[int, int],
        amount_cents: int,
        now: datetime,
    ) -> SubaccountTransfer:
        """Move ``amount_cents`` of free cash from ``route[0]`` to ``route[1]`` (idempotent)."""
        source, target = route
        done = self._by_client_id.get((user, client_transfer_id))
        if done is not None:
            if not done.same_terms(source, target, amount_cents):
                raise reject(
                    rules.INVALID_PARAMETERS,
                    f"client_transfer_id {client_transfer_id} was used for another transfer",
                )
            return done
        payer, payee = self._check(user, source, target, amount_cents)
        payer.cash -= amount_cents * CENT
        payee.cash += amount_cents * CENT
        return self._record(user, client_transfer_id, route, amount_cents, now)

    def _check(
        self, user: str, source: int, target: int, amount_cents: int
    ) -> tuple[Account, Account]:
        if amount_cents <= 0:
            raise reject(rules.INVALID_PARAMETERS, "field amount_cents must be positive")
        if source == target:
            raise reject(rules.INVALID_PARAMETERS, "from_subaccount and to_subaccount must differ")
        payer = self._account(self.account_id(user, source))
        payee = self._account(self.account_id(user, target))
        if amount_cents * CENT > payer.available:
            raise reject(
                rules.INSUFFICIENT_BALANCE,
                f"subaccount {source} has {payer.available // CENT} cents free, "
                f"cannot transfer {amount_cents}",
            )
        return payer, payee

    def _record(
        self,
        user: str,
        client_transfer_id: str,
        route: tuple[int, int],
        amount_cents: int,
        now: datetime,
    ) -> SubaccountTransfer:
        self._transfer_seq += 1
        done = SubaccountTransfer(
            transfer_id=f"{self._transfer_prefix}{self._transfer_seq:012x}",
            client_transfer_id=client_transfer_id,
            user=user,
            from_subaccount=route[0],
            to_subaccount=route[1],
            amount_cents=amount_cents,
            created_time=now,
        )
        self._transfers.setdefault(user, []).append(done)
        self._by_client_id[(user, client_transfer_id)] = done
        return done
