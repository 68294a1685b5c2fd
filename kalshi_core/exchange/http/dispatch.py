"""A direct way to a route for the requests that name one exactly.

Starlette finds a request's route by trying every route's pattern in turn, behind two
middlewares, each a layer of calls on every request. :class:`RouteTable` looks the method and
the path's segments up instead and :func:`respond` calls the same endpoint with the same
exception handlers, as Starlette would: the same statuses, headers and bodies. A request it
does not find (an unknown path, a method the path does not take, ``HEAD``, a trailing slash)
goes to Starlette, whose answers (404, 405, redirects) stay its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import attrs
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange.http.errors import exchange_error, http_error, internal_error

Endpoint = Callable[[Request], Awaitable[Response]]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


@attrs.frozen
class _Route:
    """A path's segments: the literal ones by position and the parameters' names by position."""

    literals: tuple[tuple[int, str], ...]
    parameters: tuple[tuple[int, str], ...]
    endpoint: Endpoint

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters, or None if ``parts`` is not this route's path."""
        for position, literal in self.literals:
            if parts[position] != literal:
                return None
        found = {name: parts[position] for position, name in self.parameters}
        return found if all(found.values()) else None  # Starlette's ``[^/]+``: never empty


def _route(path: str, endpoint: Endpoint) -> _Route:
    literals, parameters = [], []
    for position, part in enumerate(path.split("/")):
        if part.startswith("{") and part.endswith("}"):
            parameters.append((position, part[1:-1]))
        else:
            literals.append((position, part))
    return _Route(tuple(literals), tuple(parameters), endpoint)


class RouteTable:
    """Routes by method and number of path segments, each list in the order Starlette tries
    them: the first route whose path and method match is Starlette's choice too (routes of
    another segment count can never match the same path)."""

    def __init__(self, routes: Iterable[tuple[str, str, Endpoint]]) -> None:
        self._routes: dict[tuple[str, int], list[_Route]] = {}
        for method, path, endpoint in routes:
            route = _route(path, endpoint)
            shape = (method, len(route.literals) + len(route.parameters))
            self._routes.setdefault(shape, []).append(route)

    def find(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        """The endpoint and path parameters for ``method`` on ``path``, or None."""
        parts = path.split("/")
        for route in self._routes.get((method, len(parts)), ()):
            parameters = route.match(parts)
            if parameters is not None:
                return route.endpoint, parameters
        return None


async def respond(
    endpoint: Endpoint,
    parameters: dict[str, str],
    scope: MutableMapping[str, Any],
    receive: Receive,
    send: Send,
) -> None:
    """Serve a found route as Starlette's route and middlewares would: an ``ExchangeError`` or
    ``HTTPException`` becomes its handler's response; anything else gets the 500 handler's
    response (unless one has started) and is raised on for the server to log."""
    scope["path_params"] = parameters
    request = Request(scope, receive, send)
    started = False

    async def sender(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        response = await endpoint(request)
        await response(scope, receive, sender)
    except (ExchangeError, HTTPException) as exc:
        if started:
            raise RuntimeError("Caught handled exception, but response already started.") from exc
        handler: ErrorHandler = exchange_error if isinstance(exc, ExchangeError) else http_error
        await (await handler(request, exc))(scope, receive, sender)
    except Exception as exc:
        if not started:
            await (await internal_error(request, exc))(scope, receive, send)
        raise
