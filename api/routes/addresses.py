"""Address status, batch check, history and the operators' reset and suppress."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from adapters.addresses import normalize_address
from api.deps import Admin, Operator, Reader, Sender, Svc, Viewer
from api.schemas import (
    AddressPage,
    AddressStatus,
    CheckRequest,
    CheckResponse,
    EraseRequest,
    Erasure,
    HistoryPage,
    ResetRequest,
    StatusAt,
    SuppressRequest,
)
from domain.addresses import address_id
from domain.errors import InvalidAddress, InvalidCommand
from projections.address_list import MAX_LIMIT, AddressList, ListQuery
from projections.event_json import history_dict
from projections.time_travel import parse_instant, status_at

router = APIRouter(prefix="/v1", tags=["addresses"])


StatusFilter = Literal["ok", "soft_bounced", "bounced", "complained", "suppressed"]


@router.get("/addresses", response_model=AddressPage)
def list_addresses(services: Svc, _: Viewer, status: StatusFilter | None = None,
                   q: str = Query("", max_length=320), cursor: str | None = Query(None),
                   limit: int = Query(50, ge=1, le=MAX_LIMIT)) -> dict[str, Any]:
    """Non-ok addresses (or one status), newest change first; ``q`` matches a substring."""
    rows, next_cursor = AddressList(services.db).page(ListQuery(status, q), cursor, limit)
    return {"addresses": rows, "next_cursor": next_cursor}


@router.post("/addresses:check", response_model=CheckResponse)
def check(body: CheckRequest, services: Svc, _: Sender) -> Response:
    normalized = []
    for index, raw in enumerate(body.addresses):
        try:
            normalized.append(normalize_address(raw))
        except InvalidAddress as error:
            raise InvalidAddress(f"addresses[{index}]: {error.message}") from None
    # Returned as a Response so 10,000 results are not validated again (the shape is fixed);
    # orjson writes them about ten times faster than the standard library.
    return Response(orjson.dumps({"results": services.statuses.check(normalized)}),
                    media_type="application/json")


# Addresses may contain "/" (RFC 5322 allows it, and %2F is decoded before routing), so the
# routes take the rest of the path; those with a suffix come first. A domain has no "/", so
# ``a/history@example.com`` can never be read as the history of ``a``.
@router.get("/addresses/{address:path}/history", response_model=HistoryPage)
def history(address: str, services: Svc, _: Viewer, cursor: int | None = Query(None, ge=0),
            limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    normalized = normalize_address(address)
    events = list(services.ledger.events.get(address_id(normalized), gt=cursor, limit=limit + 1))
    page = events[:limit]
    return {
        "address": normalized,
        "events": [history_dict(e, normalized) for e in page],
        "next_cursor": str(page[-1].originator_version) if len(events) > limit else None,
    }


@router.get("/addresses/{address:path}/status-at", response_model=StatusAt)
def get_status_at(address: str, services: Svc, _: Viewer,
                  at: str = Query(..., max_length=64)) -> dict[str, Any]:
    return status_at(services.ledger, normalize_address(address), parse_instant(at))


@router.get("/addresses/{address:path}", response_model=AddressStatus)
def get_status(address: str, services: Svc, _: Reader) -> dict[str, Any]:
    return services.statuses.status(normalize_address(address))


@router.post("/addresses/{address:path}/reset", response_model=AddressStatus)
def reset(address: str, body: ResetRequest, services: Svc, who: Operator) -> dict[str, Any]:
    normalized = normalize_address(address)
    services.ledger.reset(normalized, actor=who.name, reason=body.reason, consent=body.consent,
                          is_admin=who.role == "admin", occurred_at=datetime.now(UTC),
                          source="api")
    return services.reader.status(normalized)


@router.post("/addresses/{address:path}/suppress", response_model=AddressStatus)
def suppress(address: str, body: SuppressRequest, services: Svc,
             who: Operator) -> dict[str, Any]:
    normalized = normalize_address(address)
    services.ledger.suppress(normalized, actor=who.name, reason=body.reason,
                             occurred_at=datetime.now(UTC), source="api")
    return services.reader.status(normalized)


@router.delete("/addresses/{address:path}", response_model=Erasure)
def erase(address: str, services: Svc, who: Admin, body: EraseRequest | None = None,
          reason: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
          ) -> dict[str, Any]:
    """Crypto-shred the address's personal data; a block survives as a keyed hash.
    The reason comes as ``?reason=`` or a JSON body ``{"reason"}`` (many clients and proxies
    drop DELETE bodies). Repeating it answers 200 with ``erased: false`` (and finishes any
    cleanup left over)."""
    normalized = normalize_address(address)
    why = _one_reason(reason, body.reason if body else None)
    erased = services.ledger.erase(normalized, actor=who.name, reason=why,
                                   occurred_at=datetime.now(UTC), source="api")
    status = services.statuses.status(normalized)
    return {"erased": erased, "status": status["status"], "sendable": status["sendable"]}


def _one_reason(query: str | None, body: str | None) -> str:
    if query is None and body is None:
        raise InvalidCommand("reason: give why, as ?reason= or a JSON body {\"reason\": …}")
    if query is not None and body is not None and query != body:
        raise InvalidCommand("reason: ?reason= and the body's reason differ; give it once")
    return str(query if query is not None else body)
