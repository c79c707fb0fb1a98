"""JSON request bodies made storable before validation (SPEC §6.9).

JSON can spell a lone surrogate (``"\\ud800"``), which pydantic refuses as "not a unicode
string": an API caller would get a 422 for text that the SNS path stores. So every path
treats it the same, JSON bodies that escape a lone surrogate or NUL are decoded, their strings
made storable (``domain.text``), and re-encoded before FastAPI sees them. Bodies without such
an escape — nearly all — pass through untouched after one byte scan.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.text import storable

_SUSPECT = re.compile(rb"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): _clean(v) for k, v in value.items()}
    return value


class StorableJson:
    """ASGI middleware: rewrite a JSON body only when it escapes a lone surrogate or NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _SUSPECT.search(body):
            # Not JSON: FastAPI answers 422 as for any malformed body.
            with contextlib.suppress(ValueError, RecursionError):
                body = json.dumps(_clean(json.loads(body))).encode()
        await self.app(scope, _replay([{"type": "http.request", "body": body,
                                        "more_body": False}], receive), send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The messages already read, then the client's own ``receive`` (a disconnect)."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return await then()

    return receive
