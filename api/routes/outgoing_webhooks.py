"""Outgoing webhook endpoints and their deliveries (SPEC §5, §11); admin only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from api.application.webhooks import Webhooks
from api.deps import Admin, Svc
from api.services import Services

router = APIRouter(prefix="/v1", tags=["webhooks"])
EndpointId = Annotated[str, Path(min_length=1, max_length=100)]
DeliveryState = Literal["pending", "delivered", "failed", "cancelled"]


class NewEndpoint(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=20)
    description: str | None = Field(None, max_length=500)


class EndpointChange(BaseModel):
    events: list[str] | None = Field(None, min_length=1, max_length=20)
    enabled: bool | None = None


def hooks(services: Services) -> Webhooks:
    assert services.webhooks is not None  # built by build_services
    return services.webhooks


@router.post("/webhooks", status_code=201)
def add_endpoint(body: NewEndpoint, services: Svc, who: Admin) -> dict[str, Any]:
    """Register an endpoint; the answer carries its ``secret``, which is never shown again."""
    endpoint, secret = hooks(services).add(body.url, body.events, actor=who.name,
                                           description=body.description)
    return {**endpoint.as_dict(), "secret": secret}


@router.get("/webhooks")
def list_endpoints(services: Svc, _: Admin) -> dict[str, Any]:
    return {"webhooks": [e.as_dict() for e in hooks(services).endpoints.all()]}


@router.get("/webhooks/{endpoint_id}")
def get_endpoint(endpoint_id: EndpointId, services: Svc, _: Admin) -> dict[str, Any]:
    return hooks(services).get(endpoint_id).as_dict()


@router.patch("/webhooks/{endpoint_id}")
def change_endpoint(endpoint_id: EndpointId, body: EndpointChange, services: Svc,
                    _: Admin) -> dict[str, Any]:
    """Choose other event types, or disable/enable (enabling sends what queued meanwhile)."""
    return hooks(services).change(endpoint_id, events=body.events,
                                  enabled=body.enabled).as_dict()


@router.delete("/webhooks/{endpoint_id}", status_code=204)
def remove_endpoint(endpoint_id: EndpointId, services: Svc, _: Admin) -> Response:
    hooks(services).remove(endpoint_id)
    return Response(status_code=204)


@router.post("/webhooks/{endpoint_id}/rotate-secret")
def rotate_secret(endpoint_id: EndpointId, services: Svc, _: Admin) -> dict[str, Any]:
    """A new secret (shown once); the old one signs beside it until the time returned."""
    secret, until = hooks(services).rotate(endpoint_id)
    return {"id": endpoint_id, "secret": secret, "previous_secret_valid_until": until}


@router.get("/webhooks/{endpoint_id}/deliveries")
def list_deliveries(endpoint_id: EndpointId, services: Svc, _: Admin,
                    state: DeliveryState | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    cursor: Annotated[int | None, Query(ge=0)] = None) -> dict[str, Any]:
    """Newest first, every attempt with its status, error and latency; ``next_cursor``
    continues the list."""
    found = hooks(services).deliveries(endpoint_id, limit=limit, before=cursor, state=state)
    next_cursor = found[-1]["cursor"] if len(found) == limit else None
    return {"deliveries": found, "next_cursor": next_cursor}


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend", status_code=202)
def resend_delivery(endpoint_id: EndpointId,
                    delivery_id: Annotated[str, Path(min_length=1, max_length=100)],
                    services: Svc, _: Admin) -> dict[str, Any]:
    """Send one delivery again now (same ``webhook-id``), with a fresh set of attempts."""
    hooks(services).resend(endpoint_id, delivery_id)
    return {"id": delivery_id, "state": "pending"}
