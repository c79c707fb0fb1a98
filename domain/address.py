"""The address aggregate: one per normalized recipient address, holding its whole history.

Event names, this module path and the event fields are a stored contract (see
``tests/domain/test_topics.py``): change them only with ``register_topic``, ``class_version``
and upcasters. ``@event`` bodies only change state; commands validate first and refuse by
raising, and return ``False`` for a report the aggregate has already recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as LibrarySnapshot

from domain.addresses import address_id
from domain.seen import SeenReports

if TYPE_CHECKING:
    from domain.reports import Report


def report_key(kind: str, ref: str) -> str:
    """The idempotency key of a report within one address (the aggregate is the recipient)."""
    return f"{kind}:{ref}"


class Address(Aggregate):
    """A recipient address and every fact recorded about it, oldest first.

    Its state is small and bounded (the address, whether it is erased, and the report keys of
    the last ``domain.seen.WINDOW``), so a snapshot plus the few events after it loads any
    address at the same cost however long its history is.
    """

    class Event(Aggregate.Event):
        def mutate(self, aggregate: Any) -> Any:
            result = super().mutate(aggregate)
            seen = getattr(result, "seen", None)
            if isinstance(seen, SeenReports):
                seen.stamp(self.timestamp)
            return result

    class Snapshot(LibrarySnapshot):
        """The aggregate's state at a version; sealed with the address's key like its events.

        It leaves out the memory of seen reports: the write path reads that from the report
        index in its own transaction (``Batch.recorded``), so a snapshot stays small however
        many reports an address receives."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            snapshot.state["seen"] = SeenReports()
            return snapshot

    @staticmethod
    def create_id(address: str) -> UUID:
        return address_id(address)

    class Registered(Aggregate.Created, Event):
        """The first fact about an address: its normalized spelling."""

        address: str

    @event(Registered)
    def __init__(self, address: str) -> None:
        self.address: str | None = address
        self.seen = SeenReports()
        self.erased = False

    # -- facts reported by SES and the send path ----------------------------------------------

    def record(self, report: Report) -> bool:
        """Record the fact a report carries (``domain.reports``: the aggregate's one input
        for them), as the event the report names with the report's own fields. A report
        this address has already recorded (the same key) changes nothing: ``False``."""
        if report.key is not None and report.key in self.seen:
            return False
        event_class, values = report.recorded_as()
        self.trigger_event(event_class, **values)
        return True

    class Reported(Event):
        """An event recorded from a report; its idempotency key, if it has one, joins
        ``seen`` (again whenever the aggregate is loaded from its events)."""

        def apply(self, aggregate: Any) -> None:
            key = report_key_of(self)
            if key is not None:
                aggregate.seen.add(key)

    class MessageSent(Reported):
        """SES accepted a message for this address (once per message id)."""

        message_id: str
        sender: str | None
        profile_id: str | None
        occurred_at: datetime
        source: str

    class SendBlocked(Reported):
        """A send was refused before SES because the address was not sendable."""

        status: str
        reason: str | None
        sender: str | None
        profile_id: str | None
        occurred_at: datetime
        source: str

    class Delivered(Reported):
        """SES delivered a message to the recipient's server (once per message id)."""

        message_id: str
        sender: str | None
        reporting_mta: str | None
        smtp_response: str | None
        occurred_at: datetime
        source: str

    class HardBounced(Reported):
        """The recipient's mailbox refused mail permanently. Version 2 adds the class and
        rule of SPEC §3.1; a version 1 event (recorded before the classifier) has neither
        and keeps the meaning it had: a hard bounce of the recipient."""

        class_version = 2
        message_id: str | None
        feedback_id: str
        bounce_type: str
        bounce_subtype: str
        diagnostic: str | None
        status_code: str | None
        action: str | None
        reporting_mta: str | None
        sender: str | None
        occurred_at: datetime
        source: str
        failure_class: str | None
        rule: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["failure_class"] = None
            state["rule"] = None

    class SoftBounced(Reported):
        """The recipient's mailbox refused mail for now (version 2: as ``HardBounced``)."""

        class_version = 2
        message_id: str | None
        feedback_id: str
        bounce_type: str
        bounce_subtype: str
        diagnostic: str | None
        status_code: str | None
        action: str | None
        reporting_mta: str | None
        sender: str | None
        occurred_at: datetime
        source: str
        failure_class: str | None
        rule: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["failure_class"] = None
            state["rule"] = None

    class SenderRejected(Reported):
        """The receiving server refused the *sender* (SPEC §3.1): kept for the address's
        history and charged to the sender; the recipient's status does not change. It
        never stored SES's ``action``."""

        message_id: str | None
        feedback_id: str
        bounce_type: str
        bounce_subtype: str
        failure_class: str
        rule: str
        status_code: str | None
        diagnostic: str | None
        reporting_mta: str | None
        sender: str | None
        occurred_at: datetime
        source: str

    class Complained(Reported):
        """The recipient marked a message as spam (``not-spam``: took that back)."""

        message_id: str | None
        feedback_id: str
        feedback_type: str | None
        complaint_subtype: str | None
        user_agent: str | None
        sender: str | None
        occurred_at: datetime
        source: str

    class DeliveryDelayed(Reported):
        """SES is still retrying; it does not change the status."""

        message_id: str
        delay_type: str | None
        expiration_time: datetime | None
        diagnostic: str | None
        status_code: str | None
        reporting_mta: str | None
        sender: str | None
        occurred_at: datetime
        source: str

    class Rejected(Reported):
        """SES refused the message itself (virus, rendering failure): the sender's fault."""

        message_id: str
        reason: str | None
        sender: str | None
        occurred_at: datetime
        source: str

    # -- the escalate job ------------------------------------------------------------------------

    def record_soft_bounce_escalated(
        self, *, streak_since: datetime, diagnostic: str | None,
        occurred_at: datetime, source: str,
    ) -> bool:
        """A soft-bounce streak outlived the grace period with no delivery: now a hard block."""
        self._soft_bounce_escalated(streak_since, diagnostic, occurred_at, source)
        return True

    class SoftBounceEscalated(Event):
        """A soft-bounce streak outlived the grace period: now a hard block."""

        streak_since: datetime
        diagnostic: str | None
        occurred_at: datetime
        source: str

    @event(SoftBounceEscalated)
    def _soft_bounce_escalated(
        self, streak_since: datetime, diagnostic: str | None, occurred_at: datetime, source: str,
    ) -> None:
        pass

    # -- profiles ----------------------------------------------------------------------------

    def record_email_changed_to(
        self, *, profile_id: str, new_address: str, actor: str | None,
        occurred_at: datetime, source: str,
    ) -> bool:
        """The profile left this address for ``new_address``."""
        self._email_changed_to(profile_id, new_address, actor, occurred_at, source)
        return True

    class EmailChangedTo(Event):
        """The profile left this address for ``new_address``."""

        profile_id: str
        new_address: str
        actor: str | None
        occurred_at: datetime
        source: str

    @event(EmailChangedTo)
    def _email_changed_to(
        self, profile_id: str, new_address: str, actor: str | None,
        occurred_at: datetime, source: str,
    ) -> None:
        pass

    def record_email_changed_from(
        self, *, profile_id: str, old_address: str | None, actor: str | None,
        occurred_at: datetime, source: str,
    ) -> bool:
        """The profile arrived at this address (from ``old_address``, if it had one)."""
        self._email_changed_from(profile_id, old_address, actor, occurred_at, source)
        return True

    class EmailChangedFrom(Event):
        """The profile arrived at this address (from ``old_address``, if any)."""

        profile_id: str
        old_address: str | None
        actor: str | None
        occurred_at: datetime
        source: str

    @event(EmailChangedFrom)
    def _email_changed_from(
        self, profile_id: str, old_address: str | None, actor: str | None,
        occurred_at: datetime, source: str,
    ) -> None:
        pass

    # -- admin actions -----------------------------------------------------------------------

    def reset(self, *, actor: str, reason: str, consent: str | None,
              occurred_at: datetime, source: str) -> bool:
        """Return the address to ``ok`` and restart the limits' counters; history stays."""
        self._status_reset(actor, reason, consent, occurred_at, source)
        return True

    class StatusReset(Event):
        """An operator returned the address to ``ok``; history stays."""

        actor: str
        reason: str
        consent: str | None
        occurred_at: datetime
        source: str

    @event(StatusReset)
    def _status_reset(
        self, actor: str, reason: str, consent: str | None, occurred_at: datetime, source: str,
    ) -> None:
        pass

    def suppress(self, *, actor: str, reason: str, occurred_at: datetime, source: str) -> bool:
        """Block the address by an operator's decision (or an import: once per reason)."""
        if source == "import" and report_key("import", reason) in self.seen:
            return False
        self._suppressed(actor, reason, occurred_at, source)
        return True

    class Suppressed(Event):
        """Blocked by an operator's decision or an import."""

        actor: str
        reason: str
        occurred_at: datetime
        source: str

    @event(Suppressed)
    def _suppressed(self, actor: str, reason: str, occurred_at: datetime, source: str) -> None:
        if source == "import":
            self.seen.add(report_key("import", reason))

    # -- SES account-level suppression list (SPEC §12) -------------------------------------

    def record_added_to_ses_list(self, *, reason: str, request: str, cause: str,
                                 occurred_at: datetime, source: str) -> bool:
        """SES acknowledged ``PutSuppressedDestination`` (``request``: our outbox entry).
        Nothing is recorded on an erased address: its name must not be written again."""
        if self.erased:
            return False
        self._added_to_ses_list(reason, request, cause, occurred_at, source)
        return True

    class AddedToSesSuppressionList(Event):
        """SES acknowledged ``PutSuppressedDestination`` (SPEC §12)."""

        reason: str
        request: str
        cause: str
        occurred_at: datetime
        source: str

    @event(AddedToSesSuppressionList)
    def _added_to_ses_list(self, reason: str, request: str, cause: str, occurred_at: datetime,
                           source: str) -> None:
        self.ses_listed = True

    def record_removed_from_ses_list(self, *, request: str, cause: str, found: bool,
                                     occurred_at: datetime, source: str) -> bool:
        """SES acknowledged ``DeleteSuppressedDestination`` (``found``: it had the address)."""
        if self.erased:
            return False
        self._removed_from_ses_list(request, cause, found, occurred_at, source)
        return True

    class RemovedFromSesSuppressionList(Event):
        """SES acknowledged ``DeleteSuppressedDestination`` (SPEC §12)."""

        request: str
        cause: str
        found: bool
        occurred_at: datetime
        source: str

    @event(RemovedFromSesSuppressionList)
    def _removed_from_ses_list(self, request: str, cause: str, found: bool,
                               occurred_at: datetime, source: str) -> None:
        self.ses_listed = False

    @property
    def listed_by_us(self) -> bool:
        """Whether SES's list holds this address because we put it there (and have not
        deleted it since): a pull must not import our own entry back as a suppression."""
        return bool(getattr(self, "ses_listed", False))

    # -- erasure -----------------------------------------------------------------------------

    def erase(self, *, actor: str, reason: str, status: str, blocked: bool,
              address_hash: str | None, occurred_at: datetime, source: str) -> bool:
        """Record who erased the address and why; ``status`` is the status at erasure, which
        the policy keeps when it was a block. Nothing here names the person: the data key
        of the earlier events is deleted after this commits. An erased address: ``False``."""
        if self.erased:
            return False
        self._erased(actor, reason, status, blocked, address_hash, occurred_at, source)
        return True

    class Erased(Event):
        """The address's personal data was erased; ``status`` is the status then."""

        actor: str
        reason: str
        status: str
        blocked: bool
        address_hash: str | None
        occurred_at: datetime
        source: str

    @event(Erased)
    def _erased(
        self, actor: str, reason: str, status: str, blocked: bool, address_hash: str | None,
        occurred_at: datetime, source: str,
    ) -> None:
        self.address = None
        self.erased = True
        self.seen = SeenReports()

    def recall(self, keys: Any) -> None:
        """Take the memory of seen reports from the store's report index (the write path
        loads it for the keys of a batch; snapshots leave it out). Not a change: an index of
        what the events already say."""
        self.seen = SeenReports.recalled(keys)

    def register_again(self, *, address: str) -> None:
        """A new fact about an erased address starts a new, readable, part of its history."""
        if self.erased:
            self._registered_again(address)

    class RegisteredAgain(Event):
        """A new fact about an erased address names it again."""

        address: str

    @event(RegisteredAgain)
    def _registered_again(self, address: str) -> None:
        self.address = address
        self.erased = False


def report_key_of(event: Any) -> str | None:
    """The idempotency key an event records (the key ``Reported.apply`` adds to ``seen``),
    for the report index the write path keeps beside the events."""
    if isinstance(event, Address.MessageSent):
        return report_key("sent", event.message_id)
    if isinstance(event, Address.Delivered):
        return report_key("delivery", event.message_id)
    if isinstance(event, Address.HardBounced | Address.SoftBounced
                  | Address.Complained | Address.SenderRejected):
        return report_key("feedback", event.feedback_id)
    if isinstance(event, Address.DeliveryDelayed):
        return report_key("delay", f"{event.message_id}@{event.occurred_at.isoformat()}")
    if isinstance(event, Address.Rejected):
        return report_key("reject", event.message_id)
    if isinstance(event, Address.Suppressed) and event.source == "import":
        return report_key("import", event.reason)
    return None
