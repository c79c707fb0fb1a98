"""No NUL in a URL: refused for every route before any parameter reaches a query.

PostgreSQL text cannot hold NUL, so a ``%00`` in a path or query parameter (``?q=%00``,
``/v1/profiles/a%00b``) made the driver raise and the request a 500. No address, profile id,
sender, token name or cursor contains one, so the request cannot mean anything: a clear 400
for every route on every store, instead of a fix per query.
"""

from __future__ import annotations

from fastapi import HTTPException, Request


async def refuse_nul(request: Request) -> None:
    """An app-wide dependency (async: it does no I/O, so it costs no thread hop)."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"] \
            or b"\x00" in request.scope["query_string"]:
        raise HTTPException(400, "a NUL character (%00) is not allowed in a URL")
