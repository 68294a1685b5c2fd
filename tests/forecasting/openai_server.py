"""A small OpenAI-compatible HTTP server for the llm forecaster's tests.

``POST /v1/chat/completions`` answers with the recording in ``recordings/<model>.json`` for the
request's ``model``: ``{"status": ..., "body": ...}`` is sent as is, ``{"hang": true}`` waits on
:attr:`FakeOpenAI.release` (set at teardown), which outlasts any client timeout. Every request
is kept (JSON body and Authorization header) so tests can assert what was, or was not, sent.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RECORDINGS = Path(__file__).parent / "recordings"


@attrs.frozen
class SeenRequest:
    body: dict[str, Any]
    authorization: str


class FakeOpenAI:
    """The ASGI app plus what it has seen."""

    def __init__(self) -> None:
        self.requests: list[SeenRequest] = []
        self.release = asyncio.Event()
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(SeenRequest(body, request.headers.get("authorization", "")))
        path = RECORDINGS / f"{body['model']}.json"
        if not path.is_file():
            error = {"message": f"model {body['model']} not found", "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=404)
        recording = json.loads(path.read_text(encoding="utf-8"))
        if recording.get("hang"):
            await self.release.wait()
        return JSONResponse(recording.get("body", {}), status_code=recording.get("status", 200))
