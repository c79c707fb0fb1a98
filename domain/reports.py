"""Facts about one address as plain values; ``Ledger.record`` stores any number at once.

Adapters (SNS, SQS, the send path, the API) translate the outside world into these.
Each knows which aggregate command records it; ``apply_to`` returns ``False`` for a
duplicate the aggregate has already recorded. Every text field is made storable on
construction (``domain.text``): whatever path a report came by, it can be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from domain.address import Address, report_key
from domain.failure_classes import MAILBOX_FULL, Classification, classify
from domain.text import storable


class _StorableText:
    """Replaces NUL and lone surrogates in every ``str`` field of a frozen dataclass."""

    def __post_init__(self) -> None:
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if isinstance(value, str):
                clean = storable(value)
                if clean is not value:
                    object.__setattr__(self, spec.name, clean)


@dataclass(frozen=True)
class Sent(_StorableText):
    """SES accepted a message for this recipient."""

    address: str
    message_id: str
    occurred_at: datetime
    source: str
    sender: str | None = None
    profile_id: str | None = None

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("sent", self.message_id)

    def apply_to(self, agg: Address) -> bool:
        return agg.record_sent(
            message_id=self.message_id, sender=self.sender, profile_id=self.profile_id,
            occurred_at=self.occurred_at, source=self.source,
        )


@dataclass(frozen=True)
class Blocked(_StorableText):
    """A send was refused before SES because the address was not sendable."""

    address: str
    status: str
    occurred_at: datetime
    source: str
    reason: str | None = None
    sender: str | None = None
    profile_id: str | None = None

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return None

    def apply_to(self, agg: Address) -> bool:
        return agg.record_send_blocked(
            status=self.status, reason=self.reason, sender=self.sender,
            profile_id=self.profile_id, occurred_at=self.occurred_at, source=self.source,
        )


@dataclass(frozen=True)
class Delivery(_StorableText):
    """SES delivered a message to the recipient's mail server."""

    address: str
    message_id: str
    occurred_at: datetime
    source: str
    sender: str | None = None
    reporting_mta: str | None = None
    smtp_response: str | None = None

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("delivery", self.message_id)

    def apply_to(self, agg: Address) -> bool:
        return agg.record_delivery(
            message_id=self.message_id, sender=self.sender, reporting_mta=self.reporting_mta,
            smtp_response=self.smtp_response, occurred_at=self.occurred_at, source=self.source,
        )


@dataclass(frozen=True)
class Bounce(_StorableText):
    """A bounce of one recipient. The classifier (SPEC §3.1) decides which fact it is: a
    refusal of the sender (``SenderRejected``: the recipient's status is untouched), a
    full mailbox (a soft bounce, whatever SES's type), or a hard (SES ``Permanent``) or
    soft bounce of the recipient as before."""

    address: str
    feedback_id: str
    bounce_type: str
    bounce_subtype: str
    occurred_at: datetime
    source: str
    message_id: str | None = None
    diagnostic: str | None = None
    status_code: str | None = None
    action: str | None = None
    reporting_mta: str | None = None
    sender: str | None = None

    @property
    def permanent(self) -> bool:
        """What SES said (``Permanent``); ``apply_to`` decides what the ledger records."""
        return self.bounce_type == "Permanent"

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("feedback", self.feedback_id)

    @property
    def classification(self) -> Classification:
        return classify(self.bounce_type, self.bounce_subtype, self.status_code,
                        self.diagnostic)

    def apply_to(self, agg: Address) -> bool:
        found = self.classification
        if found.sender_side:
            return agg.record_sender_rejected(
                message_id=self.message_id, feedback_id=self.feedback_id,
                bounce_type=self.bounce_type, bounce_subtype=self.bounce_subtype,
                failure_class=found.failure_class, rule=found.rule,
                status_code=self.status_code, diagnostic=self.diagnostic,
                reporting_mta=self.reporting_mta, sender=self.sender,
                occurred_at=self.occurred_at, source=self.source,
            )
        return agg.record_bounce(
            permanent=self.permanent and found.failure_class != MAILBOX_FULL,
            message_id=self.message_id, feedback_id=self.feedback_id,
            bounce_type=self.bounce_type, bounce_subtype=self.bounce_subtype,
            diagnostic=self.diagnostic, status_code=self.status_code, action=self.action,
            reporting_mta=self.reporting_mta, sender=self.sender,
            occurred_at=self.occurred_at, source=self.source,
            failure_class=found.failure_class, rule=found.rule,
        )


@dataclass(frozen=True)
class Complaint(_StorableText):
    """The recipient marked a message as spam (or, with ``not-spam``, took that back)."""

    address: str
    feedback_id: str
    occurred_at: datetime
    source: str
    feedback_type: str | None = None
    complaint_subtype: str | None = None
    message_id: str | None = None
    user_agent: str | None = None
    sender: str | None = None

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("feedback", self.feedback_id)

    def apply_to(self, agg: Address) -> bool:
        return agg.record_complaint(
            message_id=self.message_id, feedback_id=self.feedback_id,
            feedback_type=self.feedback_type, complaint_subtype=self.complaint_subtype,
            user_agent=self.user_agent, sender=self.sender,
            occurred_at=self.occurred_at, source=self.source,
        )


@dataclass(frozen=True)
class Delay(_StorableText):
    """SES could not deliver yet and keeps trying (a DeliveryDelay event)."""

    address: str
    message_id: str
    occurred_at: datetime
    source: str
    delay_type: str | None = None
    expiration_time: datetime | None = None
    diagnostic: str | None = None
    status_code: str | None = None
    reporting_mta: str | None = None
    sender: str | None = None

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("delay", f"{self.message_id}@{self.occurred_at.isoformat()}")

    def apply_to(self, agg: Address) -> bool:
        return agg.record_delivery_delayed(
            message_id=self.message_id, delay_type=self.delay_type,
            expiration_time=self.expiration_time, diagnostic=self.diagnostic,
            status_code=self.status_code, reporting_mta=self.reporting_mta, sender=self.sender,
            occurred_at=self.occurred_at, source=self.source,
        )


@dataclass(frozen=True)
class Rejection(_StorableText):
    """SES refused the message before sending (Reject or Rendering Failure)."""

    address: str
    message_id: str
    occurred_at: datetime
    source: str
    reason: str | None = None
    sender: str | None = None

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("reject", self.message_id)

    def apply_to(self, agg: Address) -> bool:
        return agg.record_rejected(
            message_id=self.message_id, reason=self.reason, sender=self.sender,
            occurred_at=self.occurred_at, source=self.source,
        )


Report = Sent | Blocked | Delivery | Bounce | Complaint | Delay | Rejection
