"""The graded controls: pause entries, cancel resting orders, flatten, stop.

Each is a ``POST /api/controls/<action>`` with the token in the ``X-Dashboard-Token`` header
and a JSON body confirming the action by name (``{"confirm": "pause"}``). A browser cannot
send that header cross-site without a CORS pre-flight this app never grants, so a forged form
or link cannot press a control. Without a configured token every control is refused. Each
control done is an audit event (``dashboard_control``); the stop it raises is audited by the
engine too (``stop_changed``). The token never reaches a log, a response or the database.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

import attrs

from kalshi_core.dashboard.live import EngineLink
from kalshi_core.storage.records import AuditEvent
from kalshi_core.storage.repositories import AuditEvents

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Dashboard-Token"  # noqa: S105 (a header name, not a secret)
AUDIT_KIND = "dashboard_control"
#: The dashboard's name of each control -> the graded stop level it raises.
ACTIONS = {
    "pause": "pause_entries",
    "cancel": "cancel_resting",
    "flatten": "flatten",
    "stop": "stop",
}
EFFECTS = {
    "pause": "No new positions; exits still trade.",
    "cancel": "Cancel every resting order (and pause entries).",
    "flatten": "Close every position with reduce-only IOC sells at most the concession below "
    "the best bid (and cancel resting orders).",
    "stop": "End the session after the current cycle.",
}
MAX_CONCESSION_CENTS = 99


class ControlRefused(Exception):
    """A control that was not done: the HTTP status and a message saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@attrs.frozen(kw_only=True)
class ControlRequest:
    action: str
    concession_cents: int | None = None


def check_token(configured: str, given: str | None) -> None:
    """Refuse unless a token is configured and ``given`` equals it (constant-time)."""
    if not configured:
        raise ControlRefused(403, "controls are disabled: dashboard.token is not set")
    if not given:
        raise ControlRefused(401, f"the {TOKEN_HEADER} header is missing")
    if not hmac.compare_digest(configured.encode(), given.encode()):
        raise ControlRefused(401, "wrong token")


def parse_request(action: str, body: Any, default_concession: int) -> ControlRequest:
    """The control asked for, confirmed by name; a clear 4xx for anything else."""
    if action not in ACTIONS:
        raise ControlRefused(404, f"no control {action!r}; controls: {', '.join(ACTIONS)}")
    if not isinstance(body, Mapping):
        raise ControlRefused(400, "the body must be a JSON object")
    if body.get("confirm") != action:
        raise ControlRefused(428, f'confirmation required: send {{"confirm": "{action}"}}')
    if action != "flatten":
        return ControlRequest(action=action)
    return ControlRequest(action=action, concession_cents=_concession(body, default_concession))


def _concession(body: Mapping[str, Any], default: int) -> int:
    value = body.get("concession_cents", default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlRefused(400, "concession_cents must be a whole number of cents")
    if not 0 <= value <= MAX_CONCESSION_CENTS:
        raise ControlRefused(400, f"concession_cents must be 0 to {MAX_CONCESSION_CENTS}")
    return value


async def apply(
    link: EngineLink | None, request: ControlRequest, audit: AuditEvents, client: str
) -> dict[str, Any]:
    """Raise the engine's graded stop as asked, and store the audit event."""
    if link is None:
        raise ControlRefused(
            409, "no engine attached: controls act on the dashboard `kalshi-core run` serves"
        )
    level = ACTIONS[request.action]
    if request.concession_cents is not None:
        link.stops.flatten_concession = request.concession_cents * 100
    reason = f"dashboard: {request.action} requested from {client}"
    changed = link.stops.escalate(level, reason)
    payload: dict[str, Any] = {"action": request.action, "level": level, "changed": changed}
    payload |= {"client": client, "current_level": link.stops.level}
    if request.concession_cents is not None:
        payload["concession_cents"] = request.concession_cents
    await audit.record(
        AuditEvent(created_time=link.clock.now(), kind=AUDIT_KIND, message=reason, payload=payload)
    )
    log.warning("dashboard control %s from %s: level %s", request.action, client, link.stops.level)
    return {"action": request.action, "level": link.stops.level, "changed": changed}
