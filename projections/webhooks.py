"""``webhooks``: the producer side of outgoing webhooks (SPEC §11), a view over the log.

For each batch it decides what to announce and writes one outbox row per announcement and
subscribed endpoint (``adapters/webhook_outbox.py``) in the transaction that moves its
tracking row: every event is announced exactly once, whatever crashes when. The dispatcher
sends the rows later, so a slow receiver never slows ingest.

Status transitions are derived from statuses, not from single events: the view keeps the
last status it announced per address (``webhook_status``, only addresses not ``ok``) and,
for the addresses a batch touched, compares it with their new status in ``email_status``,
which the projector applies earlier in the same transaction. So the rules stay in one place
(the policy), late and reordered reports give the right answer, and several changes to one
address inside one batch announce the net change. Sender events come from
``SenderStateChanged``; ``address.erased`` from ``Erased``, which also blanks every stored
payload about that address and cancels what was not yet sent.

A new view starts where ``email_status`` stands (seeding its statuses from there), not at
the first event: turning webhooks on must not announce years of history.
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
    STATUS_NEUTRAL,
    sender_state_type,
    status_transition,
)
from domain.policy import OK, SENDABLE
from projections.base import Positioned, insert_rows, iso

STATE = ("CREATE TABLE IF NOT EXISTS webhook_status ("
         "address_id TEXT PRIMARY KEY, status TEXT NOT NULL)")
STATUS_COLUMNS = ("address_id", "address", "status", "reason", "diagnostic", "since")
REJECTION_FIELDS = ("message_id", "feedback_id", "bounce_type", "bounce_subtype",
                    "failure_class", "rule", "status_code", "diagnostic", "reporting_mta",
                    "sender", "source")
DELIVERY_COLUMNS = ("id", "endpoint_id", "position", "ordinal", "order_key", "type", "body",
                    "state", "next_attempt_at", "created_at")


class NotReplayable(Exception):
    """Rebuilding an outbox view would send its whole history again."""


@dataclass(frozen=True)
class Announcement:
    position: int
    order_key: str
    type: str
    timestamp: str
    data: dict[str, Any]


def start_beside_status(cur: Cursor, name: str, seed: str, for_update: str) -> None:
    """Give a new view the tracking position of ``email_status`` and seed its state from
    ``email_status`` at that position (the tracking row is locked, so both agree)."""
    cur.execute("SELECT 1 FROM projection_tracking WHERE name = ?", (name,))
    if cur.fetchone() is not None:
        return
    cur.execute(f"SELECT position FROM projection_tracking WHERE name = 'email_status'"
                f"{for_update}")
    row = cur.fetchone()
    cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, ?)",
                (name, int(row[0]) if row else 0))
    cur.execute(seed)


def delivery_id(endpoint_id: str, position: int, kind: str) -> str:
    """The ``webhook-id``: stable per event and endpoint, so receivers can de-duplicate."""
    digest = hashlib.sha256(f"{endpoint_id}|{position}|{kind}".encode()).hexdigest()
    return "msg_" + digest[:32]


class WebhookView:
    """Announces address and sender changes to the subscribed endpoints' outbox."""

    name = "webhooks"
    replayable = False

    def __init__(self, wake: Callable[[], None] | None = None, for_update: str = "") -> None:
        self.wake, self.for_update = wake, for_update

    def create(self, cur: Cursor) -> None:
        create_tables(cur)
        cur.execute(STATE)
        start_beside_status(cur, self.name, "INSERT INTO webhook_status (address_id, status) "
                            "SELECT address_id, status FROM email_status WHERE status <> 'ok'",
                            self.for_update)

    def clear(self, cur: Cursor) -> None:
        raise NotReplayable("the webhooks view is not rebuilt: it would announce every past "
                            "event again")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> int:
        found: list[Announcement] = []
        by_address: dict[str, list[Positioned]] = {}
        for position, event in events:
            if isinstance(event, Address.Event):
                by_address.setdefault(str(event.originator_id), []).append((position, event))
            elif type(event).__name__ == "SenderStateChanged":
                found.extend(_sender(position, event))
        found.extend(AddressChanges(cur).announce(by_address))
        return self._enqueue(cur, found)

    def _enqueue(self, cur: Cursor, found: list[Announcement]) -> int:
        subscribers = _subscribers(cur) if found else {}
        rows: list[tuple[Any, ...]] = []
        ordinals: dict[int, int] = {}
        for item in sorted(found, key=lambda a: a.position):
            index = ordinals[item.position] = ordinals.get(item.position, -1) + 1
            body = json.dumps({"type": item.type, "timestamp": item.timestamp,
                               "data": item.data}, separators=(",", ":"))
            rows.extend((delivery_id(endpoint, item.position, item.type), endpoint,
                         item.position, item.position * 16 + index, item.order_key, item.type,
                         body, "pending", item.timestamp, item.timestamp)
                        for endpoint in subscribers.get(item.type, ()))
        insert_rows(cur, f"INSERT INTO webhook_deliveries ({', '.join(DELIVERY_COLUMNS)})",
                    rows, "ON CONFLICT (id) DO NOTHING")
        return len(rows)

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


def _sender(position: int, event: Any) -> list[Announcement]:
    kind = sender_state_type(event.state)
    if kind is None:
        return []
    data = {"sender": event.sender, "state": event.state, "rule": event.rule,
            "detail": event.detail, "decided_by": event.decided_by,
            "occurred_at": iso(event.occurred_at)}
    return [Announcement(position, f"sender:{event.sender}", kind, iso(event.timestamp) or "",
                         data)]


class AddressChanges:
    """One batch's address announcements, and the new last-announced statuses."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur

    def announce(self, by_address: dict[str, list[Positioned]]) -> list[Announcement]:
        kinds = {k: {type(e).__name__ for _, e in evs} for k, evs in by_address.items()}
        keys = sorted(k for k, names in kinds.items()
                      if names - STATUS_NEUTRAL or "SenderRejected" in names)
        if not keys:
            return []
        before = _select(self.cur, "SELECT address_id, status FROM webhook_status", keys)
        # The common batch is sends and deliveries: a delivery moves only a soft-bounced
        # address, so an address not in ``webhook_status`` (ok) needs no further look.
        keys = [k for k in keys if k in before or not kinds[k] - STATUS_NEUTRAL <= {"Delivered"}
                or "SenderRejected" in kinds[k]]
        if not keys:
            return []
        rows = {r[0]: dict(zip(STATUS_COLUMNS, r, strict=True)) for r in _select(
            self.cur, f"SELECT {', '.join(STATUS_COLUMNS)} FROM email_status", keys).values()}
        found: list[Announcement] = []
        states: dict[str, str] = {}
        for key in keys:
            found.extend(self._one(key, by_address[key], before.get(key, (key, OK))[1],
                                   rows.get(key), states))
        self._profiles(found)
        self._remember(states)
        return found

    def _one(self, key: str, events: list[Positioned], before: str, row: dict[str, Any] | None,
             states: dict[str, str]) -> list[Announcement]:
        found: list[Announcement] = []
        erasures = [i for i, (_, e) in enumerate(events) if type(e).__name__ == "Erased"]
        if erasures:
            position, erased = events[erasures[-1]]
            redact_subject(self.cur, key, erased.timestamp)
            found.append(_erased(key, position, erased))
            before = erased.status if erased.blocked else OK
            states[key] = before
            events = events[erasures[-1] + 1:]
        for position, event in events:
            if type(event).__name__ == "SenderRejected" and row is not None:
                found.append(_rejected(key, position, event, row))
        changes = [(p, e) for p, e in events if type(e).__name__ not in STATUS_NEUTRAL]
        if changes and row is not None:
            kind = status_transition(before, row["status"])
            if kind is not None:
                position, cause = changes[-1]
                found.append(_transition(key, position, cause, kind, before, row))
            states[key] = row["status"]
        return found

    def _profiles(self, found: list[Announcement]) -> None:
        """Add ``profile_ids`` (the host's users now at that address) to each status payload."""
        wanted = [a for a in found if "profile_ids" in a.data]
        keys = sorted({a.order_key for a in wanted})
        if not keys:
            return
        profiles: dict[str, list[str]] = {}
        for chunk in _chunks(keys):
            self.cur.execute("SELECT address_id, profile_id FROM profiles WHERE address_id IN "
                             f"({','.join('?' * len(chunk))}) ORDER BY profile_id", chunk)
            for address_id, profile_id in self.cur.fetchall():
                profiles.setdefault(address_id, []).append(profile_id)
        for item in wanted:
            item.data["profile_ids"] = profiles.get(item.order_key, [])

    def _remember(self, states: dict[str, str]) -> None:
        gone = [(k,) for k, status in states.items() if status == OK]
        kept = [(k, status) for k, status in states.items() if status != OK]
        if gone:
            self.cur.executemany("DELETE FROM webhook_status WHERE address_id = ?", gone)
        insert_rows(self.cur, "INSERT INTO webhook_status (address_id, status)", kept,
                    "ON CONFLICT (address_id) DO UPDATE SET status = excluded.status")


def _select(cur: Cursor, sql: str, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for chunk in _chunks(keys):
        cur.execute(f"{sql} WHERE address_id IN ({','.join('?' * len(chunk))})", chunk)
        found.update({row[0]: tuple(row) for row in cur.fetchall()})
    return found


def _chunks(keys: list[str], size: int = 500) -> list[list[str]]:
    return [keys[i:i + size] for i in range(0, len(keys), size)]


def _transition(key: str, position: int, cause: Any, kind: str, before: str,
                row: dict[str, Any]) -> Announcement:
    data = {"address": row["address"], "address_id": key, "status": row["status"],
            "previous_status": before, "sendable": row["status"] in SENDABLE,
            "reason": row["reason"], "diagnostic": row["diagnostic"], "since": row["since"],
            "cause": type(cause).__name__, "profile_ids": []}
    return Announcement(position, key, kind, iso(cause.timestamp) or "", data)


def _rejected(key: str, position: int, event: Any, row: dict[str, Any]) -> Announcement:
    data: dict[str, Any] = {"address": row["address"], "address_id": key,
                            "status": row["status"], "sendable": row["status"] in SENDABLE}
    data.update({name: getattr(event, name, None) for name in REJECTION_FIELDS})
    data["occurred_at"] = iso(getattr(event, "occurred_at", None))
    return Announcement(position, key, ADDRESS_SENDER_REJECTED, iso(event.timestamp) or "",
                        data)


def _erased(key: str, position: int, event: Any) -> Announcement:
    """Only the id and the kept block: the address itself is what was erased."""
    data = {"address_id": key, "erased_at": iso(event.occurred_at), "status": event.status,
            "sendable": not event.blocked}
    return Announcement(position, key, ADDRESS_ERASED, iso(event.timestamp) or "", data)
