"""``ses_push``: what SES's account-level suppression list must hear (SPEC §12), from the log.

Registered only when ``SES_SUPPRESSION_SYNC`` is ``push`` or ``both``: a process without it
leaves this view's tracking row alone, so nothing is skipped by a process configured
differently (turning push off and on again later sends what happened meanwhile). Like
``webhooks`` it reads the status changes ``email_status`` found in the same transaction
(``projections/status_changes.py``) and applies ``domain.notifications.ses_push`` to each, in
log order; a reset or sender-side rejection that changed no status is judged against the
address's status at that point. It starts at the log's head and also closes the loop: the
event recording SES's answer marks its outbox row done, in the transaction that records it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from adapters.ses_sync_store import create_tables, forget_address, mark_done
from adapters.sql import Cursor
from domain.address import Address
from domain.notifications import DELETE, LIFTS_SES_BLOCK, SesCall, ses_push
from domain.policy import SENDABLE
from projections.base import Positioned, insert_rows, iso
from projections.status_changes import StatusChange, StatusChanges
from projections.webhooks import NotReplayable, erasures

ACKNOWLEDGEMENTS = (Address.AddedToSesSuppressionList, Address.RemovedFromSesSuppressionList)
OUTBOX_COLUMNS = ("id", "position", "address_id", "address", "action", "reason", "cause",
                  "state", "next_attempt_at", "created_at")
OUTBOX_TYPES = ("text", "bigint", "text", "text", "text", "text", "text", "text", "text",
                "text")


def from_ses(event: Any) -> bool:
    """A suppression imported from SES's own list (the sync's pull or an SES JSON file)."""
    return (isinstance(event, Address.Suppressed) and event.source == "import"
            and str(event.reason).startswith("ses:"))


class SesPushView:
    """Writes the push outbox and marks acknowledged calls done."""

    name = "ses_push"
    replayable = False
    starts_at_head = True

    def __init__(self, changes: StatusChanges, wake: Callable[[], None] | None = None) -> None:
        self.changes, self.wake = changes, wake

    def create(self, cur: Cursor) -> None:
        create_tables(cur)

    def clear(self, cur: Cursor) -> None:
        raise NotReplayable("the ses_push view is not rebuilt: it would repeat every call")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> int:
        events = [(p, e) for p, e in events if isinstance(e, Address.Event)]
        done = [e.request for _, e in events if isinstance(e, ACKNOWLEDGEMENTS)]
        if done:
            mark_done(cur, done, events[-1][1].timestamp)
        erased = erasures(events)
        for key, (_, event) in erased.items():
            forget_address(cur, key, event.timestamp)
        calls = self._calls(cur, events, erased)
        insert_rows(cur, f"INSERT INTO ses_push_outbox ({', '.join(OUTBOX_COLUMNS)})", calls,
                    "ON CONFLICT (id) DO NOTHING", OUTBOX_TYPES)
        return len(calls)

    def _calls(self, cur: Cursor, events: Sequence[Positioned],
               erased: dict[str, tuple[int, Any]]) -> list[tuple[Any, ...]]:
        after_erasure = [(p, e) for p, e in events
                         if p > erased.get(str(e.originator_id), (-1, None))[0]]
        changes = [c for c in self.changes.at({p for p, _ in after_erasure})]
        lifts = [(p, e) for p, e in after_erasure if isinstance(e, LIFTS_SES_BLOCK)
                 and p not in {c.position for c in changes}]
        found: list[tuple[int, str, str, SesCall, Any]] = []
        for change in changes:
            call = ses_push(change.before, change.status, lifted=False,
                            from_ses=from_ses(change.cause))
            if call is not None:
                found.append((change.position, change.address_id, change.address, call,
                              change.cause))
        found += _lift_calls(cur, lifts, changes)
        return [_row(*item) for item in sorted(found, key=lambda f: f[0])]

    def after_commit(self, changes: int) -> None:
        if changes and self.wake is not None:
            self.wake()


def _lift_calls(cur: Cursor, lifts: list[Positioned], changes: list[StatusChange]
                ) -> list[tuple[int, str, str, SesCall, Any]]:
    """A reset or sender-side rejection that changed no status: delete the address there if
    it was sendable at that point (from the batch's own changes, else from email_status)."""
    if not lifts:
        return []
    keys = sorted({str(e.originator_id) for _, e in lifts})
    cur.execute("SELECT address_id, address, status FROM email_status WHERE address_id IN "
                f"({','.join('?' * len(keys))})", keys)
    current = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
    found = []
    for position, event in lifts:
        key = str(event.originator_id)
        if key not in current:
            continue
        status = _status_at(key, position, changes, current[key][1])
        if status in SENDABLE:
            found.append((position, key, current[key][0], SesCall(DELETE), event))
    return found


def _status_at(key: str, position: int, changes: list[StatusChange], now: str) -> str:
    mine = [c for c in changes if c.address_id == key]
    before = [c for c in mine if c.position < position]
    later = [c for c in mine if c.position > position]
    return before[-1].status if before else later[0].before if later else now


def _row(position: int, key: str, address: str, call: SesCall, cause: Any) -> tuple[Any, ...]:
    stamp = iso(cause.timestamp)
    call_id = "ses_" + hashlib.sha256(f"{position}|{key}|{call.action}".encode()).hexdigest()[:32]
    return (call_id, position, key, address, call.action, call.reason, type(cause).__name__,
            "pending", stamp, stamp)
