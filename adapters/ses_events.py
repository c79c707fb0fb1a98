"""SES notifications (``notificationType``) and events (``eventType``) as domain reports.

One report per affected recipient. Sender and recipients come from the message map when the
send was recorded, else from the notification itself; the sender then defaults to the domain
of ``mail.source`` (SPEC §2). Open, Click and Subscription are counted and ignored.

Reading (``read_ses``) and building the reports (``SesMessage.parse``) are two steps, so the
group committer can look up every message of a batch in the message map at once. Ids that
key a table (message and feedback ids) are bounded here: a value no real SES message has is
refused before it can reach an index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.addresses import normalize_address
from domain.errors import InvalidAddress
from domain.reports import Bounce, Complaint, Delay, Delivery, Rejection, Report, Sent

IGNORED = {"Open", "Click", "Subscription"}
KINDS = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery", "Send": "send",
         "Reject": "reject", "DeliveryDelay": "delivery_delay",
         "Rendering Failure": "rendering_failure", "RenderingFailure": "rendering_failure"}


class SesPayloadError(ValueError):
    """The SNS ``Message`` is not an SES notification we can read."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


MAX_ID = 512
MAX_SENDER = 255
SesId = Annotated[str, Field(min_length=1, max_length=MAX_ID)]


class Mail(_Model):
    timestamp: datetime | None = None
    messageId: SesId
    source: str = ""
    sendingAccountId: str | None = None
    destination: list[str] = []


class Recipient(_Model):
    emailAddress: str
    action: str | None = None
    status: str | None = None
    diagnosticCode: str | None = None


class BounceBody(_Model):
    bounceType: str
    bounceSubType: str = "Undetermined"
    bouncedRecipients: list[Recipient]
    timestamp: datetime | None = None
    feedbackId: SesId
    reportingMTA: str | None = None


class ComplaintBody(_Model):
    complainedRecipients: list[Recipient]
    timestamp: datetime | None = None
    feedbackId: SesId
    complaintFeedbackType: str | None = None
    complaintSubType: str | None = None
    userAgent: str | None = None


class DeliveryBody(_Model):
    timestamp: datetime | None = None
    recipients: list[str] = []
    smtpResponse: str | None = None
    reportingMTA: str | None = None


class DelayBody(_Model):
    timestamp: datetime | None = None
    delayType: str | None = None
    expirationTime: datetime | None = None
    delayedRecipients: list[Recipient] = []
    reportingMTA: str | None = None


class Notification(_Model):
    notificationType: str | None = None
    eventType: str | None = None
    mail: Mail
    bounce: BounceBody | None = None
    complaint: ComplaintBody | None = None
    delivery: DeliveryBody | None = None
    deliveryDelay: DelayBody | None = None
    reject: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None


@dataclass(frozen=True)
class MessageInfo:
    """What the message map knows about a send: recipients and their profiles, the sender."""

    recipients: tuple[str, ...]
    sender: str | None = None
    profile_ids: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Parsed:
    kind: str
    reports: list[Report]
    account_id: str | None = None
    skipped: list[str] = field(default_factory=list)


Lookup = Callable[[str], MessageInfo | None]


@dataclass(frozen=True)
class SesMessage:
    """A readable SES notification before the message map is consulted."""

    kind: str
    source: str
    note: Notification | None = None

    @property
    def message_id(self) -> str | None:
        return self.note.mail.messageId if self.note is not None else None

    @property
    def account_id(self) -> str | None:
        return self.note.mail.sendingAccountId if self.note is not None else None

    def parse(self, info: MessageInfo | None) -> Parsed:
        """The reports, given what the message map knows of the send (``None``: nothing)."""
        if self.note is None:
            return Parsed(self.kind, [])
        return _Mapper(self.note, self.source, info).parse(self.kind)


def read_ses(message: str, *, source: str) -> SesMessage:
    """Read an SES ``Message`` string (``SesPayloadError`` if unreadable)."""
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):
        raise SesPayloadError("Message is not JSON") from None
    if not isinstance(data, dict):
        raise SesPayloadError("Message is not a JSON object")
    name = data.get("eventType") or data.get("notificationType")
    if not isinstance(name, str):
        raise SesPayloadError("Message has neither eventType nor notificationType")
    if name in IGNORED or name not in KINDS:
        return SesMessage("ignored" if name in IGNORED else "unknown", source)
    try:
        note = Notification.model_validate(data)
    except ValidationError as error:
        raise SesPayloadError(f"unreadable {name}: {error.errors()[0]['msg']}") from None
    return SesMessage(KINDS[name], source, note)


def parse_ses(message: str, *, source: str, lookup: Lookup) -> Parsed:
    """The reports an SES ``Message`` string carries (``SesPayloadError`` if unreadable)."""
    read = read_ses(message, source=source)
    return read.parse(lookup(read.message_id) if read.message_id is not None else None)


def _sender_of(mail: Mail, info: MessageInfo | None) -> str | None:
    if info is not None and info.sender:
        return info.sender
    address = parseaddr(mail.source)[1]
    return address.rpartition("@")[2].lower()[:MAX_SENDER] or None


class _Mapper:
    def __init__(self, note: Notification, source: str, info: MessageInfo | None) -> None:
        self.note, self.mail, self.source, self.info = note, note.mail, source, info
        self.sender = _sender_of(note.mail, info)
        self.skipped: list[str] = []

    def parse(self, kind: str) -> Parsed:
        reports = getattr(self, f"_{kind}")()
        return Parsed(kind, reports, self.mail.sendingAccountId, self.skipped)

    def _address(self, raw: str) -> str | None:
        try:
            return normalize_address(raw)
        except InvalidAddress:
            self.skipped.append(raw)
            return None

    def _each(self, raws: Sequence[str]) -> list[str]:
        return [a for a in (self._address(r) for r in raws) if a is not None]

    def _when(self, value: datetime | None) -> datetime:
        when = value or self.mail.timestamp
        if when is None:
            raise SesPayloadError("no timestamp")
        return when

    def _destination(self) -> list[str]:
        if self.info is not None and self.info.recipients:
            return list(self.info.recipients)
        return self._each(self.mail.destination)

    def _bounce(self) -> list[Report]:
        body = self.note.bounce
        if body is None:
            raise SesPayloadError("Bounce without bounce")
        return [Bounce(address, body.feedbackId, body.bounceType, body.bounceSubType,
                       self._when(body.timestamp), self.source, message_id=self.mail.messageId,
                       diagnostic=r.diagnosticCode, status_code=r.status, action=r.action,
                       reporting_mta=body.reportingMTA, sender=self.sender)
                for r in body.bouncedRecipients if (address := self._address(r.emailAddress))]

    def _complaint(self) -> list[Report]:
        body = self.note.complaint
        if body is None:
            raise SesPayloadError("Complaint without complaint")
        return [Complaint(address, body.feedbackId, self._when(body.timestamp), self.source,
                          feedback_type=body.complaintFeedbackType,
                          complaint_subtype=body.complaintSubType,
                          message_id=self.mail.messageId, user_agent=body.userAgent,
                          sender=self.sender)
                for r in body.complainedRecipients if (address := self._address(r.emailAddress))]

    def _delivery(self) -> list[Report]:
        body = self.note.delivery
        if body is None:
            raise SesPayloadError("Delivery without delivery")
        recipients = self._each(body.recipients) if body.recipients else self._destination()
        return [Delivery(address, self.mail.messageId, self._when(body.timestamp), self.source,
                         sender=self.sender, reporting_mta=body.reportingMTA,
                         smtp_response=body.smtpResponse) for address in recipients]

    def _send(self) -> list[Report]:
        profiles = self.info.profile_ids if self.info else {}
        return [Sent(address, self.mail.messageId, self._when(None), self.source,
                     sender=self.sender, profile_id=profiles.get(address))
                for address in self._destination()]

    def _reject(self) -> list[Report]:
        reason = (self.note.reject or {}).get("reason")
        return self._rejections(str(reason) if reason else "rejected by SES")

    def _rendering_failure(self) -> list[Report]:
        failure = self.note.failure or {}
        reason = f"rendering failure: {failure.get('errorMessage') or 'unknown'}"
        return self._rejections(reason)

    def _rejections(self, reason: str) -> list[Report]:
        return [Rejection(address, self.mail.messageId, self._when(None), self.source,
                          reason=reason, sender=self.sender) for address in self._destination()]

    def _delivery_delay(self) -> list[Report]:
        body = self.note.deliveryDelay
        if body is None:
            raise SesPayloadError("DeliveryDelay without deliveryDelay")
        return [Delay(address, self.mail.messageId, self._when(body.timestamp), self.source,
                      delay_type=body.delayType, expiration_time=body.expirationTime,
                      diagnostic=r.diagnosticCode, status_code=r.status,
                      reporting_mta=body.reportingMTA, sender=self.sender)
                for r in body.delayedRecipients if (address := self._address(r.emailAddress))]
