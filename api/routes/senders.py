"""Sender reputation: rates against the thresholds, state, and the admins' resume."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException

from api.deps import Admin, Svc, Viewer
from api.schemas import SuppressRequest

router = APIRouter(prefix="/v1", tags=["senders"])


@router.get("/senders")
def list_senders(services: Svc, _: Viewer) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"senders": [services.senders.report(name, now.date(), now)
                        for name in services.senders.names()]}


@router.get("/senders/{sender:path}")
def get_sender(sender: str, services: Svc, _: Viewer) -> dict[str, Any]:
    if sender not in services.senders.names():
        raise HTTPException(404, f"no sender {sender!r} has been seen")
    now = datetime.now(UTC)
    return services.senders.report(sender, now.date(), now)


@router.post("/senders/{sender:path}/resume")
def resume_sender(sender: str, body: SuppressRequest, services: Svc,
                  who: Admin) -> dict[str, Any]:
    if sender not in services.senders.names():
        raise HTTPException(404, f"no sender {sender!r} has been seen")
    services.ledger.resume_sender(sender, actor=who.name, reason=body.reason,
                                  occurred_at=datetime.now(UTC), source="api")
    now = datetime.now(UTC)
    return services.senders.report(sender, now.date(), now)
