"""``what-if --classify``: the ledger replayed as if every bounce had gone through today's
classifier (SPEC §3.1), to find the recipients blocked for the sender's problem.

Recorded events keep their meaning (a bounce recorded before the classifier still counts
against the recipient; replays and rebuilds never change past statuses). Here, in memory
only, each bounce becomes what the classifier would record today: nothing that touches the
status for a sender-side refusal, a soft bounce for a full mailbox, a hard or soft bounce
of the recipient otherwise. ``--apply`` then records a reset, with the reason, for each
address the operator confirms — after checking that address's own history again, so a
block that arrived since the replay is never lifted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any
from uuid import UUID

from domain.address import Address
from domain.failure_classes import MAILBOX_FULL, Classification, classify
from domain.ledger import Ledger
from domain.policy import Verdict, fold, verdict
from projections.what_if import Change, Outcome

BOUNCES = (Address.HardBounced, Address.SoftBounced, Address.SenderRejected)


class Reclassifier:
    """Turns bounce events into what today's classifier would record; remembers, per
    address, the classifications that took a bounce away from the recipient."""

    def __init__(self) -> None:
        self.lifted: dict[UUID, list[tuple[str | None, Classification]]] = {}

    def __call__(self, event: Any) -> Any | None:
        if not isinstance(event, BOUNCES):
            return event
        found = classify(event.bounce_type, event.bounce_subtype, event.status_code,
                         event.diagnostic)
        if found.sender_side:
            if not isinstance(event, Address.SenderRejected):
                self.lifted.setdefault(event.originator_id, []).append(
                    (event.diagnostic, found))
            return None
        hard = event.bounce_type == "Permanent" and found.failure_class != MAILBOX_FULL
        if isinstance(event, Address.HardBounced) and not hard:
            self.lifted.setdefault(event.originator_id, []).append((event.diagnostic, found))
        return _as(Address.HardBounced if hard else Address.SoftBounced, event, found)

    def reason_for(self, key: UUID, current: Verdict) -> Classification | None:
        """The classification that lifted the bounce behind ``current`` (by its diagnostic)."""
        lifted = self.lifted.get(key, [])
        for diagnostic, found in lifted:
            if diagnostic == current.diagnostic:
                return found
        return lifted[-1][1] if lifted else None


def _as(cls: type, event: Any, found: Classification) -> Any:
    """A stand-in of ``cls`` with the event's fields and the new class (never stored)."""
    copy: Any = object.__new__(cls)
    object.__setattr__(copy, "__dict__", {"action": None, **vars(event),
                                          "failure_class": found.failure_class,
                                          "rule": found.rule})
    return copy


@dataclass(frozen=True)
class Unblock:
    """An address blocked today that the classifier would not have blocked."""

    address: str
    current: Verdict
    proposed: Verdict
    because: Classification | None

    @property
    def reason(self) -> str:
        """The reason recorded on the reset."""
        why = self.because.words if self.because else "the classifier would not block it"
        return f"what-if --classify: {why}"


def unblocks(outcome: Outcome, reclassifier: Reclassifier) -> list[Unblock]:
    """The changes from not sendable to sendable, each with the classification behind it."""
    return [Unblock(c.address, c.current, c.proposed,
                    reclassifier.reason_for(c.key, c.current) if c.key else None)
            for c in outcome.changes if not c.current.sendable and c.proposed.sendable]


def new_blocks(changes: Iterable[Change]) -> int:
    """Sendable today, blocked under the classifier (a rule that became stricter)."""
    return sum(1 for c in changes if c.current.sendable and not c.proposed.sendable)


def still_unblocks(ledger: Ledger, address: str) -> bool:
    """Whether the address, by its own history read now, is blocked and would not be."""
    events = ledger.history(address)
    live = verdict(fold(events, ledger.policy), ledger.policy)
    reclassified = [e for e in map(Reclassifier(), events) if e is not None]
    return not live.sendable and verdict(fold(reclassified, ledger.policy),
                                         ledger.policy).sendable


def write_csv(rows: list[Unblock], out: IO[str]) -> None:
    """One row per address the classifier would not have blocked, with the evidence."""
    writer = csv.writer(out)
    writer.writerow(["address", "current_status", "current_reason", "since", "diagnostic",
                     "failure_class", "rule", "explanation", "proposed_status"])
    for row in rows:
        since = row.current.since.isoformat() if row.current.since else ""
        writer.writerow([row.address, row.current.status, row.current.reason or "", since,
                         row.current.diagnostic or "",
                         row.because.failure_class if row.because else "",
                         row.because.rule if row.because else "",
                         row.because.words if row.because else "", row.proposed.status])
