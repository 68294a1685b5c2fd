"""The local exchange's own clock, for clients that trade it on its time (not a Kalshi route).

``GET /local/clock`` tells the exchange's time and whether it is *stepped* (recorded time stands
still until a client advances it, cycle by cycle: ``kalshi-core exchange serve --clock
stepped``) or runs by itself (replayed at ``--speed``). ``POST /local/clock/advance`` with
``{"seconds": S}`` moves a stepped exchange S seconds on, applying every recorded event up to
then (jumping over idle gaps), and answers the new time; it needs a signed request.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Protocol

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.base import Handlers, RouteSpec
from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.params import json_object
from kalshi_core.exchange.http.shapes import json_body

MAX_STEP_SECONDS = 366 * 86_400
NOT_STEPPED = "clock_not_stepped"


class ClockControl(Protocol):
    """What the exchange offers these routes (:class:`kalshi_core.exchange.local.LocalExchange`)."""

    def clock_state(self) -> dict[str, Any]: ...

    def advance_clock(self, seconds: float) -> dict[str, Any]: ...


class LocalClockHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("GET", "/local/clock", "clock"),
        ("POST", "/local/clock/advance", "advance"),
    )

    def _control(self) -> ClockControl:
        control: ClockControl | None = self.context.clock_control
        if control is None:
            raise rules.reject(rules.NOT_FOUND, "this exchange publishes no clock")
        return control

    async def clock(self, request: Request) -> Response:
        return json_body(self._control().clock_state())

    async def advance(self, request: Request) -> Response:
        control = self._control()
        seconds = step_seconds(await json_object(request))
        if not control.clock_state()["stepped"]:
            raise bad("this exchange's clock runs by itself (serve --clock stepped)", NOT_STEPPED)
        return json_body(control.advance_clock(seconds))


def step_seconds(body: dict[str, Any]) -> float:
    """``seconds``: a finite number above 0 and at most a year."""
    value = body.get("seconds")
    seconds = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_STEP_SECONDS:
        raise bad(f"field seconds must be a number above 0 and at most {MAX_STEP_SECONDS}")
    return seconds
