"""The dashboard's Starlette app: pages, live updates (server-sent events), reports, controls.

Everything is read-only but ``POST /api/controls/<action>`` (see
:mod:`kalshi_core.dashboard.controls`). Pages are rendered on the server (Jinja2, escaped);
the one script (``static/dashboard.js``, no build step) swaps in the parts each event sends
and opens the controls' confirmation dialog. Responses forbid scripts from anywhere else,
framing by other sites and, on a loopback bind, any Host header but loopback's (DNS
rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kalshi_core.dashboard import controls, reports
from kalshi_core.dashboard.live import EngineLink
from kalshi_core.dashboard.settings import DashboardOptions, is_loopback
from kalshi_core.dashboard.views import View, gather
from kalshi_core.money import format_count, format_dollars
from kalshi_core.storage.database import Database

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
SECTIONS = (
    "status",
    "positions",
    "orders",
    "fills",
    "pnl",
    "decisions",
    "forecasts",
    "spend",
    "alerts",
)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
MAX_RUN_ID = 128
SECURITY_HEADERS = {
    b"content-security-policy": b"default-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; frame-ancestors 'self'; form-action 'self'; base-uri 'none'",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"SAMEORIGIN",
}


@attrs.define(eq=False)
class Dashboard:
    """What the routes read: the database, the options and, under ``run``, the engine."""

    database: Database
    options: DashboardOptions
    link: EngineLink | None = None
    # set when the server shuts down: open event streams end, so shutdown never waits on them
    closing: asyncio.Event = attrs.field(factory=asyncio.Event)


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("kalshi_core.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {
        "dollars": lambda amount: "-" if amount is None else f"${format_dollars(int(amount))}",
        "cents": _cents,
        "count": lambda count: format_count(int(count)),
        "when": lambda moment: "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}",
        "svg": Markup,  # the chart is drawn by kalshi_core.backtest.svg, which escapes its text
    }
    return env


def _cents(value: Any) -> str:
    if value is None:
        return "-"
    return f"{float(value) / 100:+.1f}¢" if value < 0 else f"{float(value) / 100:.1f}¢"


def run_filter(request: Request) -> str | None:
    chosen = request.query_params.get("run") or None
    if chosen is not None and len(chosen) > MAX_RUN_ID:
        raise ValueError(f"run id longer than {MAX_RUN_ID} characters")
    return chosen


def render_parts(env: Environment, view: View) -> dict[str, str]:
    """Each live section's HTML, keyed by its element id."""
    module = env.get_template("sections.html").module
    return {name: str(getattr(module, name)(view)) for name in SECTIONS}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers)


def dashboard_app(dashboard: Dashboard) -> Starlette:
    env = templates()
    routes = [
        Route("/", _page(dashboard, env)),
        Route("/events", _events(dashboard, env)),
        Route("/reports", _reports(dashboard, env)),
        Route("/compare", _compare(dashboard, env)),
        Route("/reports/{name}", _report(dashboard, env)),
        Route("/reports/{name}/report.html", _report_body(dashboard)),
        Route("/api/controls/{action}", _control(dashboard), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    host = dashboard.options.host.strip("[]")
    hosts = [*LOOPBACK_HOSTS, host, f"[{host}]"] if is_loopback(host) else ["*"]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
    ]
    return Starlette(routes=routes, middleware=middleware, exception_handlers=_handlers(env))


Endpoint = Callable[[Request], Awaitable[Response]]


def _handlers(env: Environment) -> Mapping[Any, Callable[..., Awaitable[Response]]]:
    async def not_found(request: Request, exc: Exception) -> Response:
        page = env.get_template("error.html").render(title="Not found", message=str(exc))
        return HTMLResponse(page, status_code=404)

    async def bad_request(request: Request, exc: Exception) -> Response:
        page = env.get_template("error.html").render(title="Bad request", message=str(exc))
        return HTMLResponse(page, status_code=400)

    return {reports.ReportNotFound: not_found, ValueError: bad_request}


def _page(dashboard: Dashboard, env: Environment) -> Endpoint:
    async def page(request: Request) -> Response:
        run_id = run_filter(request)
        view = await gather(dashboard.database, dashboard.options, dashboard.link, run_id)
        body = env.get_template("index.html").render(
            view=view,
            parts=render_parts(env, view),
            actions=controls.EFFECTS,
            attached=dashboard.link is not None,
            concession=dashboard.options.flatten_concession_cents,
        )
        return HTMLResponse(body)

    return page


def _events(dashboard: Dashboard, env: Environment) -> Endpoint:
    async def events(request: Request) -> Response:
        run_id = run_filter(request)
        return EventSourceResponse(_updates(dashboard, env, run_id), ping=15)

    return events


async def _updates(
    dashboard: Dashboard, env: Environment, run_id: str | None
) -> AsyncIterator[dict[str, str]]:
    """The sections that changed, every ``refresh_seconds`` of wall time (display pacing)."""
    shown: dict[str, str] = {}
    while not dashboard.closing.is_set():
        view = await gather(dashboard.database, dashboard.options, dashboard.link, run_id)
        parts = render_parts(env, view)
        changed = {k: v for k, v in parts.items() if shown.get(k) != v}
        shown = parts
        if changed:
            yield {"event": "update", "data": json.dumps(changed)}
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(dashboard.closing.wait(), dashboard.options.refresh_seconds)


def _reports(dashboard: Dashboard, env: Environment) -> Endpoint:
    async def listing(request: Request) -> Response:
        root = dashboard.options.reports_dir
        lines = await asyncio.to_thread(reports.listing, root)
        return HTMLResponse(env.get_template("reports.html").render(reports=lines, root=root))

    return listing


def _report(dashboard: Dashboard, env: Environment) -> Endpoint:
    async def report(request: Request) -> Response:
        name = request.path_params["name"]
        reports.report_dir(dashboard.options.reports_dir, name)  # refuses a bad name first
        return HTMLResponse(env.get_template("report.html").render(name=name))

    return report


def _report_body(dashboard: Dashboard) -> Endpoint:
    async def body(request: Request) -> Response:
        root, name = dashboard.options.reports_dir, request.path_params["name"]
        return HTMLResponse(await asyncio.to_thread(reports.report_page, root, name))

    return body


def _compare(dashboard: Dashboard, env: Environment) -> Endpoint:
    async def compare(request: Request) -> Response:
        a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
        root = dashboard.options.reports_dir
        rows = await asyncio.to_thread(reports.comparison, root, a, b)
        return HTMLResponse(env.get_template("compare.html").render(a=a, b=b, rows=rows))

    return compare


def _control(dashboard: Dashboard) -> Endpoint:
    async def control(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        try:
            result = await _do_control(dashboard, request, client)
        except controls.ControlRefused as refused:
            log.warning("dashboard control refused from %s: %s", client, refused.message)
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        return JSONResponse(result)

    return control


async def _do_control(dashboard: Dashboard, request: Request, client: str) -> dict[str, Any]:
    controls.check_token(dashboard.options.token, request.headers.get(controls.TOKEN_HEADER))
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise controls.ControlRefused(415, "send the body as application/json")
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise controls.ControlRefused(400, "the body is not JSON") from None
    default = dashboard.options.flatten_concession_cents
    parsed = controls.parse_request(request.path_params["action"], body, default)
    return await controls.apply(dashboard.link, parsed, dashboard.database.audit, client)
