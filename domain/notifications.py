"""What the outside world is told about a change: outgoing webhooks (SPEC §11) and SES's
account-level suppression list (SPEC §12).

Both are decided from an address's status before and after a change, never from one event
alone: the status is the policy's verdict over the whole history (late reports, resets,
limits), and the host application and SES care about where an address *stands*. These
rules are pure; the views in ``projections/webhooks.py`` and ``projections/ses_push.py``
apply them to each status change ``email_status`` finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.address import Address
from domain.policy import COMPLAINED, OK, SENDABLE, SOFT_BOUNCED

ADDRESS_BLOCKED = "address.blocked"
ADDRESS_UNBLOCKED = "address.unblocked"
ADDRESS_SOFT_BOUNCED = "address.soft_bounced"
ADDRESS_SENDER_REJECTED = "address.sender_rejected"
ADDRESS_ERASED = "address.erased"
SENDER_WARNED = "sender.warned"
SENDER_PAUSED = "sender.paused"
SENDER_RESUMED = "sender.resumed"
EVENT_TYPES = (ADDRESS_BLOCKED, ADDRESS_UNBLOCKED, ADDRESS_SOFT_BOUNCED, ADDRESS_SENDER_REJECTED,
               SENDER_WARNED, SENDER_PAUSED, SENDER_RESUMED, ADDRESS_ERASED)

_SENDER_TYPES = {"warned": SENDER_WARNED, "paused": SENDER_PAUSED, "active": SENDER_RESUMED}

# Events after which SES's list must not keep the address (SPEC §12): an operator said the
# recipient is fine, or the receiving server refused the *sender*, not the mailbox.
LIFTS_SES_BLOCK = (Address.StatusReset, Address.SenderRejected)

PUT, DELETE = "put", "delete"
BOUNCE, COMPLAINT = "BOUNCE", "COMPLAINT"


def status_transition(before: str, after: str) -> str | None:
    """The webhook a status change announces, if any.

    - ``address.blocked``: into a non-sendable status (bounced, complained, suppressed) from
      any other status, so a host also hears a block whose kind changed;
    - ``address.soft_bounced``: from ``ok`` to ``soft_bounced`` (still sendable);
    - ``address.unblocked``: from a non-sendable status to a sendable one, or from
      ``soft_bounced`` back to ``ok``: whatever flag the host set can be cleared.
    """
    if before == after:
        return None
    if after not in SENDABLE:
        return ADDRESS_BLOCKED
    if before not in SENDABLE or (before == SOFT_BOUNCED and after == OK):
        return ADDRESS_UNBLOCKED
    return ADDRESS_SOFT_BOUNCED if after == SOFT_BOUNCED else None


def sender_state_type(state: str) -> str | None:
    """``sender.warned``/``sender.paused``/``sender.resumed`` for a sender's new state."""
    return _SENDER_TYPES.get(state)


@dataclass(frozen=True)
class SesCall:
    """One call to make on SES's account-level suppression list."""

    action: str  # PUT or DELETE
    reason: str | None = None  # BOUNCE or COMPLAINT for PUT


def ses_push(before: str, after: str, *, lifted: bool, from_ses: bool) -> SesCall | None:
    """What SES's list should hear after an address moved from ``before`` to ``after``.

    A block here is put there (COMPLAINT for a complaint, BOUNCE for every other block),
    unless SES told us of it in the first place (``from_ses``: an import of SES's own list)
    — putting it back would be an echo. A reset or a sender-side rejection (``lifted``)
    that leaves the address sendable deletes it there, whether or not we put it: SES adds
    addresses on its own and would keep dropping mail to a recipient we know is fine.
    A block re-established after a reset in the same batch is put again.
    """
    if after not in SENDABLE:
        if from_ses or (before == after and not lifted):
            return None
        return SesCall(PUT, COMPLAINT if after == COMPLAINED else BOUNCE)
    if lifted or before not in SENDABLE:
        return SesCall(DELETE)
    return None
