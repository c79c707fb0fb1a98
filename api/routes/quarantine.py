"""Addresses a view could not apply (SPEC §6.9: no input stops the projections): see, retry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from adapters.addresses import normalize_address
from api.deps import Admin, Operator, Svc

router = APIRouter(prefix="/v1", tags=["operations"])


class RetryRequest(BaseModel):
    """One address, or every quarantined one when empty."""

    address: str | None = Field(None, max_length=320)


@router.get("/quarantine")
def list_quarantine(services: Svc, _: Operator) -> dict[str, Any]:
    """Every quarantined address: from which log position, the error, the waiting events."""
    return {"quarantined": services.quarantined()}


@router.post("/quarantine:retry")
def retry_quarantine(body: RetryRequest, services: Svc, _: Admin) -> dict[str, Any]:
    """Apply the waiting events again; those that now go through leave the quarantine."""
    address = normalize_address(body.address) if body.address else None
    return {"quarantined": services.repair(address)}
