"""Request and response bodies (SPEC §5). The status shape is defined once, with the
reads that build it (``projections.queries.AddressStatus``); it is used here as it is."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.application.sending import RecipientResult
from projections.address_list import ListedAddress
from projections.queries import AddressStatus, Counts

ProfileId = Field(min_length=1, max_length=200)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressPage(BaseModel):
    addresses: list[ListedAddress]
    next_cursor: str | None


class StatusAt(BaseModel):
    address: str
    at: str | None
    status: str
    sendable: bool
    reason: str | None
    rule: str | None
    diagnostic: str | None
    since: str | None
    counts: Counts


class CheckRequest(Strict):
    addresses: list[str] = Field(min_length=1, max_length=10_000)


class CheckResult(BaseModel):
    address: str
    status: str
    sendable: bool


class CheckResponse(BaseModel):
    results: list[CheckResult]


class ResetRequest(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    consent: str | None = Field(None, max_length=2000)


class EraseRequest(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class Erasure(BaseModel):
    """The answer to an erasure: ``erased`` is false when it had already been erased."""

    erased: bool
    status: str
    sendable: bool


class SuppressRequest(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class HistoryEvent(BaseModel):
    address: str
    type: str
    version: int
    occurred_at: str | None
    recorded_at: str | None
    data: dict[str, object]
    explanation: str | None = None


class HistoryPage(BaseModel):
    address: str
    events: list[HistoryEvent]
    next_cursor: str | None


class Recipient(Strict):
    address: str
    profile_id: str | None = Field(None, min_length=1, max_length=200)


class RecordRequest(Strict):
    message_id: str = Field(min_length=1, max_length=200)
    recipients: list[Recipient] = Field(min_length=1, max_length=1000)
    sender: str | None = Field(None, min_length=1, max_length=200)
    sent_at: datetime | None = None


class SendResponse(BaseModel):
    """``POST /v1/messages``: one result per recipient. The request body is
    ``adapters.send_validation.OutgoingMessage``, which Python callers use too."""

    results: list[RecipientResult]


class RecordedRecipient(BaseModel):
    address: str
    recorded: bool


class RecordResponse(BaseModel):
    message_id: str
    recipients: list[RecordedRecipient]


class EmailChange(Strict):
    email: str = Field(min_length=1, max_length=320)


class Profile(BaseModel):
    profile_id: str
    address: str
    updated_at: str | None
    status: AddressStatus


class TokenRequest(Strict):
    role: str
    name: str = Field(min_length=1, max_length=100)
    # Only for role sender: what it may send as, and from which domains (absent: anything).
    senders: list[str] | None = Field(None, min_length=1, max_length=50)
    from_domains: list[str] | None = Field(None, min_length=1, max_length=50)


class TokenInfo(BaseModel):
    name: str
    role: str
    created_at: str
    senders: list[str] | None
    from_domains: list[str] | None


class TokenBinding(Strict):
    """``senders: null`` unbinds: the sender token may then send as anyone, from anywhere."""

    senders: list[str] | None = Field(min_length=1, max_length=50)
    from_domains: list[str] | None = Field(None, min_length=1, max_length=50)


class EndedSessions(BaseModel):
    name: str
    ended: int


class NewToken(TokenInfo):
    token: str
