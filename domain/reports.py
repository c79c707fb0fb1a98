"""Facts about one address as plain values: the address aggregate's one input for them
(``Address.record``); ``Ledger.record`` stores any number at once.

Adapters (SNS, SQS, the send path, the API) translate the outside world into these. Each
names the event that records it (``recorded_as``), whose fields are the report's own but
the address (the aggregate is the address): a new SES field is a field here and on the
event, and nothing in between. Every text field is made storable on construction
(``domain.text``): whatever path a report came by, it can be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from domain.address import Address, report_key
from domain.failure_classes import MAILBOX_FULL, Classification, classify
from domain.text import storable

Fact = tuple[type[Address.Event], dict[str, Any]]
"""An event class of the address and the values of its fields."""


class _Report:
    """What every report does: replace NUL and lone surrogates in its ``str`` fields (it is
    a frozen dataclass), and name the event that records it with its fields."""

    event: ClassVar[type[Address.Event]]

    def __post_init__(self) -> None:
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if isinstance(value, str):
                clean = storable(value)
                if clean is not value:
                    object.__setattr__(self, spec.name, clean)

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return None

    def recorded_as(self) -> Fact:
        """The event that records this report, and its fields."""
        return self.event, self.values()

    def values(self) -> dict[str, Any]:
        """Every field but the address, by name."""
        return {spec.name: getattr(self, spec.name)
                for spec in fields(self)  # type: ignore[arg-type]
                if spec.name != "address"}


@dataclass(frozen=True)
class Sent(_Report):
    """SES accepted a message for this recipient."""

    event = Address.MessageSent

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


@dataclass(frozen=True)
class Blocked(_Report):
    """A send was refused before SES because the address was not sendable."""

    event = Address.SendBlocked

    address: str
    status: str
    occurred_at: datetime
    source: str
    reason: str | None = None
    sender: str | None = None
    profile_id: str | None = None


@dataclass(frozen=True)
class Delivery(_Report):
    """SES delivered a message to the recipient's mail server."""

    event = Address.Delivered

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


@dataclass(frozen=True)
class Bounce(_Report):
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
        """What SES said (``Permanent``); ``recorded_as`` decides what the ledger records."""
        return self.bounce_type == "Permanent"

    @property
    def key(self) -> str | None:
        """The idempotency key this report records (``None``: never a duplicate)."""
        return report_key("feedback", self.feedback_id)

    @property
    def classification(self) -> Classification:
        return classify(self.bounce_type, self.bounce_subtype, self.status_code,
                        self.diagnostic)

    def recorded_as(self) -> Fact:
        """``SenderRejected``, ``HardBounced`` or ``SoftBounced``, as the classifier says,
        with the class and the rule it gave."""
        found = self.classification
        values = {**self.values(), "failure_class": found.failure_class, "rule": found.rule}
        if found.sender_side:
            del values["action"]  # ``SenderRejected`` never stored SES's action
            return Address.SenderRejected, values
        hard = self.permanent and found.failure_class != MAILBOX_FULL
        return (Address.HardBounced if hard else Address.SoftBounced), values


@dataclass(frozen=True)
class Complaint(_Report):
    """The recipient marked a message as spam (or, with ``not-spam``, took that back)."""

    event = Address.Complained

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


@dataclass(frozen=True)
class Delay(_Report):
    """SES could not deliver yet and keeps trying (a DeliveryDelay event)."""

    event = Address.DeliveryDelayed

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


@dataclass(frozen=True)
class Rejection(_Report):
    """SES refused the message before sending (Reject or Rendering Failure)."""

    event = Address.Rejected

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



Report = Sent | Blocked | Delivery | Bounce | Complaint | Delay | Rejection
