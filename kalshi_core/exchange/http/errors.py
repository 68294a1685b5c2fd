"""Kalshi's error shape ``{"error": {"code", "message", "service"}}`` and the handlers that
turn every failure, expected or not, into it."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules

SERVICE = "exchange"
PAYLOAD_TOO_LARGE = "payload_too_large"
log = logging.getLogger("kalshi_core.exchange.server")


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "service": SERVICE}}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


def bad(message: str, code: str = rules.INVALID_PARAMETERS) -> ExchangeError:
    """A 400 naming what was wrong (``code`` defaults to ``invalid_parameters``)."""
    return rules.reject(code, message)


def too_large(limit: int) -> ExchangeError:
    return ExchangeError(
        f"the request body is larger than {limit} bytes", code=PAYLOAD_TOO_LARGE, status=413
    )


def plain_message(exc: ExchangeError) -> str:
    """The error's message without the ``(status code)`` tag ExchangeError appends."""
    text = str(exc)
    tag = f" ({exc.status} {exc.code})" if exc.status or exc.code else ""
    return text.removesuffix(tag) if tag else text


def error_item(exc: ExchangeError) -> dict[str, str]:
    """The ``error`` object of one failed item of a batch."""
    return {"code": exc.code or "error", "message": plain_message(exc), "service": SERVICE}


async def exchange_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ExchangeError)
    return error_response(exc.status or 400, exc.code or "error", plain_message(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return error_response(exc.status_code, code, f"{request.method} {request.url.path}: {code}")


async def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("local exchange failed on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", f"{type(exc).__name__} in the local exchange")


EXCEPTION_HANDLERS = {
    ExchangeError: exchange_error,
    HTTPException: http_error,
    Exception: internal_error,
}
