"""The address list (with CSV export) and one address's page with its forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from adapters.addresses import normalize_address
from api.console.deps import PostUser, User, render, require
from api.console.session import ConsoleUser
from api.console.wording import banner, event_details
from api.deps import Svc
from api.services import Services
from domain.addresses import address_id
from domain.errors import LedgerError
from domain.policy import COMPLAINED, COUNT_NAMES, SUPPRESSED, Status
from projections.address_list import AddressList, ListedAddress, ListQuery
from projections.event_json import history_dict
from projections.queries import AddressStatus
from projections.time_travel import parse_instant, status_at

router = APIRouter(prefix="/console", include_in_schema=False)
StatusFilter = Literal["", Status]  # "": every non-ok status
PAGE = 50
TIMELINE_PAGE = 100
CSV_COLUMNS = ("address", "status", "sendable", "reason", "diagnostic", "since", "changed_at",
               "last_event_at", *COUNT_NAMES)
Reason = Annotated[str, Form(max_length=2000)]


def address_url(address: str, **query: str) -> str:
    tail = f"?{urlencode(query)}" if query else ""
    return f"/console/addresses/{quote(address, safe='@')}{tail}"


@router.get("/addresses", response_class=HTMLResponse)
def address_list(request: Request, user: User, services: Svc, status: StatusFilter = "",
                 q: Annotated[str, Query(max_length=320)] = "",
                 cursor: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    query = ListQuery(status or None, q)
    rows, next_cursor = AddressList(services.db).page(query, cursor or None, PAGE)
    filters = {k: v for k, v in (("status", status), ("q", q)) if v}
    return render(request, "addresses.html", user, rows=rows, status=status, q=q,
                  show_first=bool(cursor), filters=urlencode(filters),
                  next_url=("?" + urlencode({**filters, "cursor": next_cursor}))
                  if next_cursor else None, address_url=address_url)


@router.get("/addresses.csv")
def address_csv(user: User, services: Svc, status: StatusFilter = "",
                q: Annotated[str, Query(max_length=320)] = "") -> Response:
    rows = AddressList(services.db).every(ListQuery(status or None, q))
    name = f"addresses-{status or 'not-ok'}.csv"
    return StreamingResponse(_csv_lines(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_lines(rows: Iterator[ListedAddress]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        flat = {**row, **row["counts"]}
        writer.writerow([_cell(flat[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    """Defuse spreadsheet formulas in text that came from outside (diagnostics, reasons)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.get("/addresses/{address:path}", response_class=HTMLResponse)
def address_page(request: Request, address: str, user: User, services: Svc,
                 before: Annotated[int | None, Query(ge=1)] = None,
                 at: Annotated[str, Query(max_length=64)] = "", done: str = "") -> Response:
    return _address_page(request, services, user, normalize_address(address), before, at,
                         done)


def _address_page(request: Request, services: Services, user: ConsoleUser, address: str,
                  before: int | None = None, at: str = "", done: str = "",
                  error: str = "", status_code: int = 200) -> Response:
    events = list(services.ledger.events.get(
        address_id(address), desc=True, limit=TIMELINE_PAGE + 1,
        lte=before - 1 if before else None))
    page = [history_dict(e, address) for e in events[:TIMELINE_PAGE]]
    status = services.reader.status(address)
    seen = bool(page) or before is not None
    then = status_at(services.ledger, address, parse_instant(at)) if at.strip() else None
    return render(request, "address.html", user, status_code, address=address, status=status,
                  banner=banner(status, services.ledger.policy, seen), seen=seen,
                  timeline=[(e, event_details(e["data"])) for e in page],
                  older=page[-1]["version"] if len(events) > TIMELINE_PAGE else None,
                  then=then, at=at, done=done, error=error,
                  may_reset=_may_reset(user, status), address_url=address_url,
                  needs_consent=status["status"] == COMPLAINED,
                  may_suppress=user.may("operator") and status["status"] != SUPPRESSED)


def _may_reset(user: ConsoleUser, status: AddressStatus) -> bool:
    if status["status"] == COMPLAINED:
        return user.may("admin")
    return user.may("operator") and status["status"] != "ok"


@router.post("/addresses/{address:path}/reset")
def reset(request: Request, address: str, user: PostUser, services: Svc, reason: Reason = "",
          consent: Annotated[str, Form(max_length=2000)] = "") -> Response:
    require(user, "operator", "Resetting an address")
    normalized = normalize_address(address)
    try:
        services.ledger.reset(normalized, actor=user.name, reason=reason, consent=consent,
                              is_admin=user.role == "admin", occurred_at=datetime.now(UTC),
                              source="console")
    except LedgerError as refused:
        return _refused(request, services, user, normalized, refused)
    return RedirectResponse(address_url(normalized, done="reset"), 303)


@router.post("/addresses/{address:path}/suppress")
def suppress(request: Request, address: str, user: PostUser, services: Svc,
             reason: Reason = "") -> Response:
    require(user, "operator", "Suppressing an address")
    normalized = normalize_address(address)
    try:
        services.ledger.suppress(normalized, actor=user.name, reason=reason,
                                 occurred_at=datetime.now(UTC), source="console")
    except LedgerError as refused:
        return _refused(request, services, user, normalized, refused)
    return RedirectResponse(address_url(normalized, done="suppress"), 303)


def _refused(request: Request, services: Services, user: ConsoleUser, address: str,
             refused: LedgerError) -> Response:
    """Show the page again with the ledger's reason (a missing reason, no consent)."""
    return _address_page(request, services, user, address, error=refused.message,
                         status_code=refused.status)
