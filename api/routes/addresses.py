"""Address status, batch check, history and the operators' reset and suppress."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import Operator, Reader, Sender, Svc, Viewer
from api.schemas import (
    AddressStatus,
    CheckRequest,
    CheckResponse,
    HistoryPage,
    ResetRequest,
    SuppressRequest,
)
from domain.addresses import address_id, normalize_address
from domain.errors import InvalidAddress
from projections.event_json import event_dict

router = APIRouter(prefix="/v1", tags=["addresses"])


@router.get("/addresses/{address}", response_model=AddressStatus)
def get_status(address: str, services: Svc, _: Reader) -> dict[str, Any]:
    return services.statuses.status(normalize_address(address))


@router.post("/addresses:check", response_model=CheckResponse)
def check(body: CheckRequest, services: Svc, _: Sender) -> JSONResponse:
    normalized = []
    for index, raw in enumerate(body.addresses):
        try:
            normalized.append(normalize_address(raw))
        except InvalidAddress as error:
            raise InvalidAddress(f"addresses[{index}]: {error.message}") from None
    # Returned as a Response so 10,000 results are not validated again (the shape is fixed).
    return JSONResponse({"results": services.statuses.check(normalized)})


@router.get("/addresses/{address}/history", response_model=HistoryPage)
def history(address: str, services: Svc, _: Viewer, cursor: int | None = Query(None, ge=0),
            limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    normalized = normalize_address(address)
    events = list(services.ledger.events.get(address_id(normalized), gt=cursor, limit=limit + 1))
    page = events[:limit]
    return {
        "address": normalized,
        "events": [event_dict(e, normalized) for e in page],
        "next_cursor": str(page[-1].originator_version) if len(events) > limit else None,
    }


@router.post("/addresses/{address}/reset", response_model=AddressStatus)
def reset(address: str, body: ResetRequest, services: Svc, who: Operator) -> dict[str, Any]:
    normalized = normalize_address(address)
    services.ledger.reset(normalized, actor=who.name, reason=body.reason, consent=body.consent,
                          is_admin=who.role == "admin", occurred_at=datetime.now(UTC),
                          source="api")
    return services.reader.status(normalized)


@router.post("/addresses/{address}/suppress", response_model=AddressStatus)
def suppress(address: str, body: SuppressRequest, services: Svc,
             who: Operator) -> dict[str, Any]:
    normalized = normalize_address(address)
    services.ledger.suppress(normalized, actor=who.name, reason=body.reason,
                             occurred_at=datetime.now(UTC), source="api")
    return services.reader.status(normalized)
