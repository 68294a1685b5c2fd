"""Order groups: the venue-side kill switch with a rolling matched-contracts limit.

A member creates a group with ``contracts_limit`` and places orders into it by
``order_group_id``. Every contract an order of the group matches (as taker or maker) counts
for ``WINDOW`` (Kalshi's rolling 15 seconds). Once the count in the window reaches the limit,
the group *triggers*: each of its live orders is canceled (resting ones and ones still in
flight under insert latency) and new orders naming the group are refused until it is reset.

Time is the venue's clock: each match is stamped with the time the venue executed it, so a
replay triggers at the same match whatever its speed. A group that triggers while one of its
orders is taking liquidity stops that order after the match that reached the limit; the
venue applies the cancellations once that order is done (:meth:`OrderGroups.flush`), so the
book is never changed under a running match.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import attrs

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.money import CONTRACT, Count, format_count

WINDOW = timedelta(seconds=15)
MAX_CONTRACTS_LIMIT = 1_000_000 * CONTRACT  # Kalshi: a limit of 1 to 1,000,000 contracts
MAX_GROUPS_PER_ACCOUNT = 100_000
GROUP_TRIGGERED = "order_group_triggered"

#: Cancels, at the given time, every still-live order among the ids given.
CancelOrders = Callable[[Iterable[str], datetime], None]


@attrs.define(kw_only=True, eq=False)
class OrderGroup:
    """One group. ``order_ids`` lists every order ever placed in it, oldest first."""

    group_id: str
    account_id: str
    contracts_limit: Count
    triggered: bool = False
    order_ids: list[str] = attrs.field(factory=list)
    matches: deque[tuple[datetime, Count]] = attrs.field(factory=deque)

    def matched_within(self, now: datetime, window: timedelta) -> Count:
        """Contracts matched in the window ending at ``now`` (older matches are dropped)."""
        while self.matches and self.matches[0][0] <= now - window:
            self.matches.popleft()
        return sum(count for _, count in self.matches)


def check_limit(contracts_limit: Count) -> Count:
    """``contracts_limit`` if it is 0.01 to 1,000,000 contracts; else a 400 naming it."""
    if not 0 < contracts_limit <= MAX_CONTRACTS_LIMIT:
        raise rules.reject(
            rules.INVALID_PARAMETERS,
            f"contracts_limit {format_count(contracts_limit)} must be more than 0 "
            f"and at most {format_count(MAX_CONTRACTS_LIMIT)}",
        )
    return contracts_limit


class OrderGroups:
    """Every account's order groups. ``cancel`` is the venue's immediate cancel."""

    def __init__(
        self, cancel: CancelOrders, *, id_namespace: str, window: timedelta = WINDOW
    ) -> None:
        self._cancel = cancel
        self.window = window
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, id_namespace)
        self._prefix = str(uuid.uuid5(namespace, "order_group"))[:24]
        self._seq = 0
        self._groups: dict[str, OrderGroup] = {}
        self._by_order: dict[str, OrderGroup] = {}
        self._pending: list[OrderGroup] = []

    # ---- the member's requests --------------------------------------------------------------

    def create(self, account_id: str, contracts_limit: Count) -> OrderGroup:
        check_limit(contracts_limit)
        if len(self.of_account(account_id)) >= MAX_GROUPS_PER_ACCOUNT:
            raise rules.reject(
                rules.INVALID_PARAMETERS,
                f"{account_id} already has {MAX_GROUPS_PER_ACCOUNT} order groups",
            )
        self._seq += 1
        group_id = f"{self._prefix}{self._seq:012x}"
        group = self._groups[group_id] = OrderGroup(
            group_id=group_id, account_id=account_id, contracts_limit=contracts_limit
        )
        return group

    def get(self, account_id: str, group_id: str) -> OrderGroup:
        """The account's group ``group_id``; 404 for an unknown id or another account's."""
        group = self._groups.get(group_id)
        if group is None or group.account_id != account_id:
            raise rules.reject(rules.NOT_FOUND, f"order group {group_id!r} not found")
        return group

    def of_account(self, account_id: str) -> list[OrderGroup]:
        return [g for g in self._groups.values() if g.account_id == account_id]

    def trigger(self, account_id: str, group_id: str, now: datetime) -> None:
        """Cancel the group's live orders and refuse new ones until :meth:`reset`."""
        group = self.get(account_id, group_id)
        group.triggered = True
        self._cancel(group.order_ids, now)

    def reset(self, account_id: str, group_id: str) -> None:
        """Clear the triggered state and the rolling count: the group takes orders again."""
        group = self.get(account_id, group_id)
        group.triggered = False
        group.matches.clear()

    def delete(self, account_id: str, group_id: str, now: datetime) -> None:
        """Cancel the group's live orders and forget the group."""
        group = self.get(account_id, group_id)
        self._cancel(group.order_ids, now)
        del self._groups[group_id]
        for order_id in group.order_ids:
            self._by_order.pop(order_id, None)

    def set_limit(
        self, account_id: str, group_id: str, contracts_limit: Count, now: datetime
    ) -> None:
        """A new limit; one the window's count already reaches triggers the group at once."""
        group = self.get(account_id, group_id)
        group.contracts_limit = check_limit(contracts_limit)
        if not group.triggered and group.matched_within(now, self.window) >= contracts_limit:
            self.trigger(account_id, group_id, now)

    # ---- the venue's hooks ------------------------------------------------------------------

    def admit(self, account_id: str, group_id: str) -> None:
        """Raise unless a new order of ``account_id`` may join ``group_id``."""
        group = self.get(account_id, group_id)
        if group.triggered:
            raise ExchangeError(
                f"order group {group_id} has triggered (its contracts limit was reached or it "
                "was triggered by hand); reset it before placing orders in it",
                code=GROUP_TRIGGERED,
                status=409,
            )

    def join(self, group_id: str, order_id: str) -> None:
        group = self._groups[group_id]
        group.order_ids.append(order_id)
        self._by_order[order_id] = group

    def matched(self, order_id: str, count: Count, now: datetime) -> None:
        """Count a match of ``order_id``; a group that reaches its limit triggers (its
        cancellations wait for :meth:`flush`)."""
        group = self._by_order.get(order_id)
        if group is None or group.triggered:
            return
        group.matches.append((now, count))
        if group.matched_within(now, self.window) >= group.contracts_limit:
            group.triggered = True
            self._pending.append(group)

    def halted(self, order_id: str) -> bool:
        """Whether ``order_id`` belongs to a triggered group (a taker stops matching)."""
        group = self._by_order.get(order_id)
        return group is not None and group.triggered

    def flush(self, now: datetime) -> None:
        """Cancel the live orders of every group that triggered since the last flush."""
        while self._pending:
            group = self._pending.pop(0)
            self._cancel(group.order_ids, now)

    def group_of(self, order_id: str) -> str | None:
        group = self._by_order.get(order_id)
        return None if group is None else group.group_id
