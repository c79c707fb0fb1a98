"""Sending a message (SPEC §5 ``POST /v1/messages``, and Python callers): the send decision.

Validate (``adapters.send_validation``), refuse a paused sender, pre-check every recipient
in one batched status read, hand each sendable recipient to the transport (one SES v2
``SendEmail`` each, ``adapters.ses.SesTransport``), and record ``SendBlocked`` for the
blocked and ``MessageSent`` for what SES took, in one ledger transaction. The transport only
translates; what to do with its answers — stop calling once SES says the whole account is
paused — is decided here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal, Protocol

from adapters.send_validation import OutgoingMessage, ValidMessage, validate
from adapters.ses import Delivery
from domain.errors import SenderPaused
from domain.ledger import Ledger
from domain.policy import OK
from domain.reports import Blocked, Sent
from domain.sender import PAUSED

if TYPE_CHECKING:
    from projections.senders import SenderReader
    from projections.status_mirror import StatusLookup

log = logging.getLogger(__name__)

Result = Literal["sent", "blocked", "failed"]
SENT: Final = "sent"
BLOCKED: Final = "blocked"
FAILED: Final = "failed"


class Transport(Protocol):
    """Hands one message to one recipient (``adapters.ses.SesTransport``)."""

    def deliver(self, message: ValidMessage, recipient: str) -> Delivery: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class RecipientResult:
    """What happened to one recipient: ``sent`` (message_id), ``blocked`` or ``failed``
    (reason). ``status`` is the address's email_status at the pre-check. Also the API's
    answer (``api.schemas.SendResponse``): every field is always there."""

    address: str
    result: Result
    status: str
    message_id: str | None
    reason: str | None
    profile_id: str | None


class Sending:
    """Pre-checks every recipient, records the blocked ones, sends the rest one by one.

    >>> sending = services.email()
    >>> sending.send(OutgoingMessage(from_address="news@example.com", to=["a@example.org"],
    ...                              subject="Hi", text="..."))
    """

    def __init__(self, statuses: StatusLookup, ledger: Ledger, transport: Transport, *,
                 senders: SenderReader | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.statuses, self.ledger, self.transport = statuses, ledger, transport
        self.senders, self.clock = senders, clock

    def send(self, message: OutgoingMessage, *, source: str = "api") -> list[RecipientResult]:
        """Validate, refuse a paused sender, pre-check, send the sendable, record everything.

        Raises ``InvalidMessage``/``InvalidAddress`` (nothing looked up) or ``SenderPaused``
        (nothing sent). Returns one result per recipient in input order, after the commit.
        """
        valid = validate(message)
        self._refuse_paused(valid)
        known = self.statuses.statuses(valid.recipients)
        results: list[RecipientResult] = []
        reports: list[Sent | Blocked] = []
        paused: Delivery | None = None  # set once SES says the whole account is paused
        for address, profile_id in zip(valid.recipients, valid.profile_ids, strict=True):
            line = known.get(address)
            status, why = (line.status, line.reason) if line else (OK, None)
            if line is not None and not line.sendable:
                results.append(RecipientResult(address, BLOCKED, status, None, why, profile_id))
                reports.append(Blocked(address, status, self.clock(), source, why,
                                       valid.sender, profile_id))
                continue
            delivery = paused or self.transport.deliver(valid, address)
            paused = delivery if delivery.account_paused else None
            results.append(RecipientResult(address, SENT if delivery.message_id else FAILED,
                                           status, delivery.message_id, delivery.error,
                                           profile_id))
            if delivery.message_id:
                reports.append(Sent(address, delivery.message_id, self.clock(), source,
                                    valid.sender, profile_id))
        self._record(reports)
        return results

    def _refuse_paused(self, valid: ValidMessage) -> None:
        """The named sender and the from-domain (itself a sender: the default one) must both
        be unpaused, or naming another sender would walk around a pause."""
        if self.senders is None:
            return
        for sender in dict.fromkeys((valid.sender, valid.from_normalized.rpartition("@")[2])):
            state = self.senders.state(sender)
            if state["state"] == PAUSED:
                detail = f" ({state['detail']})" if state.get("detail") else ""
                raise SenderPaused(f"sender {sender!r} is paused by rule {state['rule']}"
                                   f"{detail}; an admin must resume it before it sends again")

    def _record(self, reports: Sequence[Sent | Blocked]) -> None:
        if not reports:
            return
        try:
            self.ledger.record(*reports)
        except Exception:
            # SES has already taken these; later reports still map through their own addresses.
            # Message ids only: a log line must not carry an address.
            sent = [r.message_id for r in reports if isinstance(r, Sent)]
            log.error("sent but not recorded (store failed): SES message ids %s", sent)
            raise
