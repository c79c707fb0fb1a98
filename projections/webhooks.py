"""``webhooks``: the producer side of outgoing webhooks (SPEC §11), a view over the log.

For each batch it decides what to announce and writes one outbox row per announcement and
subscribed endpoint (``adapters/webhook_outbox.py``) in the transaction that moves its
tracking row: every event is announced exactly once, whatever crashes when. The dispatcher
sends the rows later, so a slow receiver never slows ingest.

Status transitions come from ``email_status`` itself (``projections/status_changes.py``):
registered after it, this view reads the changes the policy's fold found in the same
transaction, event by event — so the rules stay in one place, late and reordered reports
give the right answer, and each change is announced once, in log order. Sender events come
from ``SenderStateChanged``, ``address.sender_rejected`` from ``SenderRejected``;
``address.erased`` from ``Erased``, which also blanks every stored payload about that address
and cancels what was not yet sent (always, even while nobody listens).

While no endpoint exists (``Listeners``) the view writes nothing and costs no statement.
It starts at the log's head (``starts_at_head``): turning webhooks on must not announce
years of history; it is never rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.sql import Cursor
from adapters.webhook_outbox import create_tables, redact_subject
from domain.address import Address
from domain.notifications import (
    ADDRESS_ERASED,
    ADDRESS_SENDER_REJECTED,
    sender_state_type,
    status_transition,
)
from domain.policy import SENDABLE
from domain.sender import Sender
from projections.base import Positioned, insert_rows, iso
from projections.status_changes import StatusChange, StatusChanges

REJECTION_FIELDS = ("message_id", "feedback_id", "bounce_type", "bounce_subtype",
                    "failure_class", "rule", "status_code", "diagnostic", "reporting_mta",
                    "sender", "source")
DELIVERY_COLUMNS = ("id", "endpoint_id", "position", "ordinal", "order_key", "type", "body",
                    "state", "next_attempt_at", "created_at")
DELIVERY_TYPES = ("text", "text", "bigint", "bigint", "text", "text", "text", "text", "text",
                  "text")


class NotReplayable(Exception):
    """Rebuilding an outbox view would send its whole history again."""


@dataclass(frozen=True)
class Announcement:
    position: int
    order_key: str
    type: str
    timestamp: str
    data: dict[str, Any]


def delivery_id(endpoint_id: str, position: int, kind: str) -> str:
    """The ``webhook-id``: stable per event and endpoint, so receivers can de-duplicate."""
    digest = hashlib.sha256(f"{endpoint_id}|{position}|{kind}".encode()).hexdigest()
    return "msg_" + digest[:32]


def erasures(events: Sequence[Positioned]) -> dict[str, tuple[int, Any]]:
    """The last ``Erased`` of each address in a batch."""
    return {str(e.originator_id): (p, e) for p, e in events if isinstance(e, Address.Erased)}


class WebhookView:
    """Announces address and sender changes to the subscribed endpoints' outbox."""

    name = "webhooks"
    replayable = False
    starts_at_head = True

    def __init__(self, changes: StatusChanges, listening: Callable[[], bool],
                 wake: Callable[[], None] | None = None) -> None:
        self.changes, self.listening, self.wake = changes, listening, wake

    def create(self, cur: Cursor) -> None:
        create_tables(cur)

    def clear(self, cur: Cursor) -> None:
        raise NotReplayable("the webhooks view is not rebuilt: it would announce every past "
                            "event again")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> int:
        erased = erasures(events)
        for key, (_, event) in erased.items():
            redact_subject(cur, key, event.timestamp)
        if not self.listening():
            return 0
        subscribers = _subscribers(cur)
        if not subscribers:
            return 0
        found = [_erased(key, p, e) for key, (p, e) in erased.items()]
        found += self._transitions(events, erased)
        found += _rejections(cur, events, erased)
        found += [a for p, e in events if isinstance(e, Sender.SenderStateChanged)
                  for a in _sender(p, e)]
        _add_profiles(cur, found)
        return _enqueue(cur, found, subscribers)

    def _transitions(self, events: Sequence[Positioned],
                     erased: dict[str, tuple[int, Any]]) -> list[Announcement]:
        found = []
        for change in self.changes.at({p for p, _ in events}):
            if change.position < erased.get(change.address_id, (-1, None))[0]:
                continue  # announced before its erasure in this batch: the name must not leave
            kind = status_transition(change.before, change.status)
            if kind is not None:
                found.append(_transition(change, kind))
        return found

    def after_commit(self, changes: int) -> None:
        if changes and self.wake is not None:
            self.wake()


def _subscribers(cur: Cursor) -> dict[str, list[str]]:
    """Event type → endpoints that chose it (disabled ones too: they keep their queue)."""
    cur.execute("SELECT id, events FROM webhook_endpoints ORDER BY id")
    chosen: dict[str, list[str]] = {}
    for endpoint_id, events in cur.fetchall():
        for kind in json.loads(events):
            chosen.setdefault(kind, []).append(endpoint_id)
    return chosen


def _enqueue(cur: Cursor, found: list[Announcement], subscribers: dict[str, list[str]]) -> int:
    rows: list[tuple[Any, ...]] = []
    ordinals: dict[int, int] = {}
    for item in sorted(found, key=lambda a: a.position):
        targets = subscribers.get(item.type, ())
        if not targets:
            continue
        index = ordinals[item.position] = ordinals.get(item.position, -1) + 1
        body = json.dumps({"type": item.type, "timestamp": item.timestamp, "data": item.data},
                          separators=(",", ":"))
        rows.extend((delivery_id(endpoint, item.position, item.type), endpoint, item.position,
                     item.position * 16 + index, item.order_key, item.type, body, "pending",
                     item.timestamp, item.timestamp) for endpoint in targets)
    insert_rows(cur, f"INSERT INTO webhook_deliveries ({', '.join(DELIVERY_COLUMNS)})", rows,
                "ON CONFLICT (id) DO NOTHING", DELIVERY_TYPES)
    return len(rows)


def _add_profiles(cur: Cursor, found: list[Announcement]) -> None:
    """``profile_ids``: the host's users now at the address of each status announcement."""
    wanted = [a for a in found if "profile_ids" in a.data]
    keys = sorted({a.order_key for a in wanted})
    if not keys:
        return
    cur.execute("SELECT address_id, profile_id FROM profiles WHERE address_id IN "
                f"({','.join('?' * len(keys))}) ORDER BY profile_id", keys)
    profiles: dict[str, list[str]] = {}
    for address_id, profile_id in cur.fetchall():
        profiles.setdefault(address_id, []).append(profile_id)
    for item in wanted:
        item.data["profile_ids"] = profiles.get(item.order_key, [])


def _rejections(cur: Cursor, events: Sequence[Positioned],
                erased: dict[str, tuple[int, Any]]) -> list[Announcement]:
    rejected = [(p, e) for p, e in events if isinstance(e, Address.SenderRejected)
                and p > erased.get(str(e.originator_id), (-1, None))[0]]
    if not rejected:
        return []
    keys = sorted({str(e.originator_id) for _, e in rejected})
    cur.execute("SELECT address_id, address, status FROM email_status WHERE address_id IN "
                f"({','.join('?' * len(keys))})", keys)
    rows = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
    return [_rejected(str(e.originator_id), p, e, rows[str(e.originator_id)])
            for p, e in rejected if str(e.originator_id) in rows]


def _transition(change: StatusChange, kind: str) -> Announcement:
    data = {"address": change.address, "address_id": change.address_id,
            "status": change.status, "previous_status": change.before,
            "sendable": change.status in SENDABLE, "reason": change.reason,
            "diagnostic": change.diagnostic, "since": change.since,
            "cause": type(change.cause).__name__, "profile_ids": []}
    return Announcement(change.position, change.address_id, kind,
                        iso(change.cause.timestamp) or "", data)


def _rejected(key: str, position: int, event: Any, row: tuple[str, str]) -> Announcement:
    data: dict[str, Any] = {"address": row[0], "address_id": key, "status": row[1],
                            "sendable": row[1] in SENDABLE}
    data.update({name: getattr(event, name, None) for name in REJECTION_FIELDS})
    data["occurred_at"] = iso(getattr(event, "occurred_at", None))
    return Announcement(position, key, ADDRESS_SENDER_REJECTED, iso(event.timestamp) or "",
                        data)


def _erased(key: str, position: int, event: Any) -> Announcement:
    """Only the id and the kept block: the address itself is what was erased."""
    data = {"address_id": key, "erased_at": iso(event.occurred_at), "status": event.status,
            "sendable": not event.blocked}
    return Announcement(position, key, ADDRESS_ERASED, iso(event.timestamp) or "", data)


def _sender(position: int, event: Any) -> list[Announcement]:
    kind = sender_state_type(event.state)
    if kind is None:
        return []
    data = {"sender": event.sender, "state": event.state, "rule": event.rule,
            "detail": event.detail, "decided_by": event.decided_by,
            "occurred_at": iso(event.occurred_at)}
    return [Announcement(position, f"sender:{event.sender}", kind, iso(event.timestamp) or "",
                         data)]
