"""Client-specific errors: the ones the engine must tell apart from an ordinary rejection."""

from __future__ import annotations

from collections.abc import Sequence

from kalshi_core.errors import ExchangeError


class OrderStateUnknown(ExchangeError):
    """An order write may or may not have been applied (timeout, dropped connection, 5xx).

    The engine must reconcile by looking the order up (by ``client_order_id``, or by
    ``order_id`` for writes to an existing order) before it writes to that market again.
    """

    def __init__(
        self,
        message: str,
        *,
        client_order_id: str | None = None,
        order_id: str | None = None,
        client_order_ids: Sequence[str] = (),
        code: str | None = None,
        status: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        self.order_id = order_id
        self.client_order_ids = tuple(client_order_ids) or (
            (client_order_id,) if client_order_id else ()
        )
        ids = ", ".join(
            f"{name}={value}"
            for name, value in (("client_order_id", client_order_id), ("order_id", order_id))
            if value
        )
        super().__init__(
            f"{message}{f' ({ids})' if ids else ''}", code=code, status=status, endpoint=endpoint
        )
