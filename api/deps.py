"""Request dependencies as ``Annotated`` aliases: the services and the caller's role."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.services import Services
from api.throttle import FailureThrottle, client_key
from api.tokens import Principal

log = logging.getLogger(__name__)


async def get_services(request: Request) -> Services:
    """Async because it does no I/O: sync dependencies each cost a thread-pool hop."""
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(get_services)]


def get_principal(request: Request, services: Svc) -> Principal:
    """The caller of a bearer token. Wrong tokens are counted per client: past the limit the
    client gets 429 for a while, whatever token it sends (a success does not reset the count,
    or one valid token would let a script keep guessing others)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    throttle: FailureThrottle = request.app.state.bearer_throttle
    client = client_key(request)
    if throttle.blocked(client):
        raise HTTPException(429, "too many invalid tokens from this client; retry later",
                            {"Retry-After": str(int(throttle.window_s))})
    principal = services.tokens.authenticate(token.strip())
    if principal is None:
        if throttle.failed(client):
            log.warning("%d invalid API tokens from %s within %ds: answering 429",
                        throttle.limit, client, throttle.window_s)
        raise HTTPException(401, "invalid token", {"WWW-Authenticate": "Bearer"})
    return principal


def requires(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers whose role grants any of ``roles``."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not any(principal.may(role) for role in roles):
            raise HTTPException(403, f"this needs the {' or '.join(roles)} role")
        return principal

    return check


Reader = Annotated[Principal, Depends(requires("viewer", "sender"))]
Viewer = Annotated[Principal, Depends(requires("viewer"))]
Sender = Annotated[Principal, Depends(requires("sender"))]
Operator = Annotated[Principal, Depends(requires("operator"))]
Admin = Annotated[Principal, Depends(requires("admin"))]
