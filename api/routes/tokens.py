"""API tokens (admin only): the secret is returned once, then only its hash is kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import Admin, Svc
from api.schemas import EndedSessions, NewToken, TokenBinding, TokenInfo, TokenRequest
from api.services import Services

router = APIRouter(prefix="/v1", tags=["tokens"])


def _info(services: Services, name: str) -> dict[str, Any]:
    return next(t for t in services.tokens.list() if t["name"] == name)


@router.post("/tokens", response_model=NewToken, status_code=201)
def create_token(body: TokenRequest, services: Svc, _: Admin) -> dict[str, Any]:
    token = services.tokens.create(body.name, body.role, senders=body.senders,
                                   from_domains=body.from_domains)
    return {**_info(services, body.name.strip()), "token": token}


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(services: Svc, _: Admin) -> list[dict[str, Any]]:
    return services.tokens.list()


@router.put("/tokens/{name}/binding", response_model=TokenInfo)
def bind_token(name: str, body: TokenBinding, services: Svc, _: Admin) -> dict[str, Any]:
    """Bind a sender token to the senders it may send as and the from-domains it may use."""
    services.tokens.bind(name, body.senders, body.from_domains)
    return _info(services, name)


@router.delete("/tokens/{name}/sessions", response_model=EndedSessions)
def end_sessions(name: str, services: Svc, _: Admin) -> dict[str, Any]:
    """End every console session of the token at once; the token itself stays valid."""
    return {"name": name, "ended": services.tokens.end_sessions(name)}


@router.delete("/tokens/{name}", status_code=204)
def revoke_token(name: str, services: Svc, _: Admin) -> Response:
    """Revoke the token: refused from the next request on, in every process; its console
    sessions end with it."""
    services.tokens.revoke(name)
    return Response(status_code=204)
