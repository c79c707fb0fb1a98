"""Sending through SES after the pre-check, and recording sends made elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from adapters.addresses import normalize_address
from adapters.send_validation import OutgoingMessage, validate
from api.deps import Sender, Svc
from api.schemas import RecordRequest, RecordResponse, SendRequest, SendResponse
from api.tokens import Principal, TokenError
from domain.errors import InvalidAddress
from domain.reports import Sent

router = APIRouter(prefix="/v1", tags=["messages"])


def _allowed(who: Principal, sender: str, from_domain: str | None = None) -> None:
    """Sender binding: a bound ``sender`` token acts only as its senders, from its domains
    (a pause then holds for what the caller really sends as; SPEC §5 roles are unchanged)."""
    if not who.may_send_as(sender, from_domain):
        sent_as = f"sender {sender!r}" + (f" from {from_domain!r}" if from_domain else "")
        raise TokenError("sender_not_allowed", f"token {who.name!r} may not send as {sent_as}; "
                         f"it is bound to {', '.join(who.senders or ())}", 403)


@router.post("/messages:record", response_model=RecordResponse)
def record_send(body: RecordRequest, services: Svc, who: Sender) -> dict[str, Any]:
    if who.senders is not None:
        if body.sender is None:
            raise TokenError("sender_required", "sender: this token is bound to senders; name "
                             f"the one the send was made as ({', '.join(who.senders)})", 422)
        _allowed(who, body.sender.strip())
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
                            source="api", sender=body.sender, profile_id=recipient.profile_id))
    recorded = services.ledger.record(*reports)
    return {"message_id": body.message_id,
            "recipients": [{"address": r.address, "recorded": ok}
                           for r, ok in zip(reports, recorded, strict=True)]}


@router.post("/messages", response_model=SendResponse)
def send_message(body: SendRequest, services: Svc, who: Sender) -> dict[str, Any]:
    """Pre-check each recipient, send the sendable ones through SES, answer after the commit."""
    message = OutgoingMessage(body.from_address, body.to, body.subject, body.text, body.html,
                              body.sender, body.profile_ids)
    if who.senders is not None:
        valid = validate(message)
        _allowed(who, valid.sender, valid.from_normalized.rpartition("@")[2])
    return {"results": [r.as_dict() for r in services.email().send(message)]}
