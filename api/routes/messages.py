"""Sending through SES after the pre-check, and recording sends made elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from adapters.addresses import normalize_address
from adapters.send_validation import OutgoingMessage, validate
from api.deps import Sender, Svc
from api.schemas import RecordRequest, RecordResponse, SendResponse
from domain.errors import InvalidAddress
from domain.reports import Sent

router = APIRouter(prefix="/v1", tags=["messages"])


@router.post("/messages:record", response_model=RecordResponse)
def record_send(body: RecordRequest, services: Svc, who: Sender) -> dict[str, Any]:
    sender = who.binding.sender(body.sender) if who.binding else body.sender
    sent_at = body.sent_at or datetime.now(UTC)
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    reports = []
    for index, recipient in enumerate(body.recipients):
        try:
            address = normalize_address(recipient.address)
        except InvalidAddress as error:
            raise InvalidAddress(f"recipients[{index}]: {error.message}") from None
        reports.append(Sent(address=address, message_id=body.message_id, occurred_at=sent_at,
                            source="api", sender=sender, profile_id=recipient.profile_id))
    recorded = services.ledger.record(*reports)
    return {"message_id": body.message_id,
            "recipients": [{"address": r.address, "recorded": ok}
                           for r, ok in zip(reports, recorded, strict=True)]}


@router.post("/messages", response_model=SendResponse)
def send_message(body: OutgoingMessage, services: Svc, who: Sender) -> dict[str, Any]:
    """Pre-check each recipient, send the sendable ones through SES, answer after the commit."""
    message = body
    if who.binding:
        message = body.model_copy(update={"sender": who.binding.sender(body.sender)})
        who.binding.check_from(validate(message).from_normalized.rpartition("@")[2])
    return {"results": services.email().send(message)}
