"""API tokens (admin only): the secret is returned once, then only its hash is kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import Admin, Svc
from api.schemas import NewToken, TokenInfo, TokenRequest

router = APIRouter(prefix="/v1", tags=["tokens"])


@router.post("/tokens", response_model=NewToken, status_code=201)
def create_token(body: TokenRequest, services: Svc, _: Admin) -> dict[str, Any]:
    token = services.tokens.create(body.name, body.role)
    info = next(t for t in services.tokens.list() if t["name"] == body.name.strip())
    return {**info, "token": token}


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(services: Svc, _: Admin) -> list[dict[str, str]]:
    return services.tokens.list()


@router.delete("/tokens/{name}", status_code=204)
def revoke_token(name: str, services: Svc, _: Admin) -> Response:
    services.tokens.revoke(name)
    return Response(status_code=204)
