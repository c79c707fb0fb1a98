"""``email_status``: each address's current status, reason, diagnostic and counts.

The row keeps the folded ``Standing`` as JSON so the next event folds in without
re-reading the address's history. ``changed_at`` is when the status last changed
(recorded time), for the "newest change first" list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.sql import Cursor
from domain.address import Address
from domain.policy import COUNT_NAMES, Mark, Policy, Standing, Verdict, apply, verdict
from domain.standing_json import dump_standing, load_standing
from projections.base import Positioned, insert_rows, iso, parse_iso
from projections.queries import PROJECTION_ERROR

COLUMNS = ("address_id", "address", "status", "sendable", "reason", "diagnostic", "since",
           "last_event_at", "changed_at", *COUNT_NAMES, "standing", "position")
TYPES = ("text", "text", "text", "boolean", "text", "text", "text", "text", "text",
         *("integer" for _ in COUNT_NAMES), "text", "bigint")

CREATE = [
    "CREATE TABLE IF NOT EXISTS email_status ("
    "address_id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE, status TEXT NOT NULL, "
    "sendable BOOLEAN NOT NULL, reason TEXT, diagnostic TEXT, since TEXT, "
    "last_event_at TEXT, changed_at TEXT, "
    + ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in COUNT_NAMES)
    + ", standing TEXT NOT NULL, position BIGINT NOT NULL)",
    "DROP INDEX IF EXISTS email_status_status_changed",  # replaced by email_status_status_list
    "CREATE INDEX IF NOT EXISTS email_status_changed ON email_status (changed_at)",
    "CREATE INDEX IF NOT EXISTS email_status_position ON email_status (position)",
    # The address list (projections/address_list.py): every non-ok row, or one status,
    # newest change first, with address_id breaking ties for the cursor.
    "CREATE INDEX IF NOT EXISTS email_status_blocked_list "
    "ON email_status (changed_at DESC, address_id DESC) WHERE status <> 'ok'",
    "CREATE INDEX IF NOT EXISTS email_status_status_list "
    "ON email_status (status, changed_at DESC, address_id DESC)",
    # Blocks that outlived an erasure, under a keyed hash of the address (``Erased``).
    "CREATE TABLE IF NOT EXISTS erased_blocks ("
    "address_hash TEXT PRIMARY KEY, address_id TEXT NOT NULL, status TEXT NOT NULL, "
    "erased_at TEXT NOT NULL, position BIGINT NOT NULL)",
]


@dataclass
class StatusRow:
    """One address's row, as the view stores and the API reads it."""

    address_id: str
    address: str
    standing: Standing
    verdict: Verdict
    changed_at: str | None
    position: int
    quarantined: bool = False  # a view failed on its events: not sendable until repaired

    @property
    def sendable(self) -> bool:
        return self.verdict.sendable and not self.quarantined

    @property
    def reason(self) -> str | None:
        return PROJECTION_ERROR if self.quarantined else self.verdict.reason

    def as_status(self) -> dict[str, Any]:
        """The SPEC §5 status shape of this row."""
        v, st = self.verdict, self.standing
        return {"address": self.address, "status": v.status, "sendable": self.sendable,
                "reason": self.reason, "diagnostic": v.diagnostic, "since": iso(v.since),
                "counts": st.counts_dict(), "last_event_at": iso(st.last_event_at)}

    def values(self) -> tuple[Any, ...]:
        v, st = self.verdict, self.standing
        return (self.address_id, self.address, v.status, self.sendable, self.reason,
                v.diagnostic, iso(v.since), iso(st.last_event_at), self.changed_at, *st.counts,
                json.dumps(dump_standing(st)), self.position)


class EmailStatusView:
    """Folds address events under the policy; ``on_change`` hears the rows a commit changed
    (the Redis status mirror)."""

    name = "email_status"

    def __init__(self, policy: Policy,
                 on_change: Callable[[list[StatusRow]], None] | None = None) -> None:
        self.policy, self.on_change = policy, on_change

    def create(self, cur: Cursor) -> None:
        for statement in CREATE:
            cur.execute(statement)

    def clear(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM email_status")
        cur.execute("DELETE FROM erased_blocks")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> list[StatusRow]:
        # ``Redacted`` events are not ``Address.Event``s: an erased history counts for nothing.
        events = [(p, e) for p, e in events if isinstance(e, Address.Event)]
        rows = self._load(cur, {str(e.originator_id) for _, e in events})
        touched: dict[str, StatusRow] = {}
        for position, event in events:
            key = str(event.originator_id)
            if type(event).__name__ == "Erased":
                self._erase(cur, key, event, position, rows, touched)
                continue
            row = rows.get(key) or self._new_row(cur, key, event)
            if row is None:  # a fact of an erased address read with a stale key elsewhere
                continue
            row.standing = apply(row.standing, event, self.policy)
            new = verdict(row.standing, self.policy)
            if new.status != row.verdict.status or row.changed_at is None:
                row.changed_at = iso(event.timestamp)
            row.verdict, row.position = new, position
            rows[key] = touched[key] = row
        self._write(cur, list(touched.values()))
        return list(touched.values())

    @staticmethod
    def _write(cur: Cursor, rows: list[StatusRow]) -> None:
        updates = ",".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        insert_rows(cur, f"INSERT INTO email_status ({','.join(COLUMNS)})",
                    [row.values() for row in rows],
                    f"ON CONFLICT (address_id) DO UPDATE SET {updates}", TYPES)

    def fail_closed(self, cur: Cursor, originator: UUID, position: int) -> list[StatusRow]:
        """The address's row says "not sendable, projection_error" until it is repaired
        (an address with no row yet gets one, with what is known of it)."""
        key = str(originator)
        row = self._load(cur, {key}).get(key)
        if row is not None:  # the quarantine names the address for operators and reads
            cur.execute("UPDATE projection_quarantine SET address = ? WHERE originator_id = ? "
                        "AND address IS NULL", (row.address, key))
        else:
            cur.execute("SELECT address FROM projection_quarantine WHERE originator_id = ?",
                        (key,))
            found = cur.fetchone()
            if found is None or not found[0]:
                return []  # not an address, or erased: nothing to answer for
            row = StatusRow(key, found[0], Standing(), verdict(Standing(), self.policy), None, 0)
        row.quarantined, row.position = True, position
        self._write(cur, [row])
        return [row]

    def standing_in(self, cur: Cursor, originator: UUID) -> Standing | None:
        """The folded standing this view keeps for an address (``None``: no row)."""
        row = self._load(cur, {str(originator)}).get(str(originator))
        return row.standing if row is not None else None

    def _new_row(self, cur: Cursor, key: str, event: Any) -> StatusRow | None:
        """A row from ``Registered``, or from ``RegisteredAgain`` carrying an erased block."""
        address = getattr(event, "address", None)
        if address is None:
            return None
        standing = Standing()
        if type(event).__name__ == "RegisteredAgain":
            cur.execute("SELECT status, erased_at FROM erased_blocks WHERE address_id = ?",
                        (key,))
            block = cur.fetchone()
            if block is not None:
                standing = Standing(erased=Mark(parse_iso(block[1]) or event.timestamp,
                                                block[0], None))
        return StatusRow(key, address, standing, verdict(standing, self.policy), None, 0)

    @staticmethod
    def _erase(cur: Cursor, key: str, event: Any, position: int,
               rows: dict[str, StatusRow], touched: dict[str, StatusRow]) -> None:
        """The row goes; a block stays behind under the keyed hash, in this transaction."""
        touched.pop(key, None)  # a row changed earlier in this batch is not written at all
        rows.pop(key, None)
        cur.execute("DELETE FROM email_status WHERE address_id = ?", (key,))
        cur.execute("DELETE FROM erased_blocks WHERE address_id = ?", (key,))
        if event.blocked and event.address_hash:
            cur.execute("INSERT INTO erased_blocks (address_hash, address_id, status, "
                        "erased_at, position) VALUES (?, ?, ?, ?, ?)",
                        (event.address_hash, key, event.status, iso(event.occurred_at),
                         position))

    def _load(self, cur: Cursor, keys: set[str]) -> dict[str, StatusRow]:
        found: dict[str, StatusRow] = {}
        ordered = sorted(keys)
        select = "SELECT address_id, address, standing, changed_at, position FROM email_status "
        if cur.dialect == "postgresql":  # one statement text whatever the count
            cur.execute(select + "WHERE address_id = ANY(%s)", (ordered,))
            rows = cur.fetchall()
        else:
            rows = []
            for i in range(0, len(ordered), 500):
                chunk = ordered[i:i + 500]
                cur.execute(select + f"WHERE address_id IN ({','.join('?' * len(chunk))})",
                            chunk)
                rows += cur.fetchall()
        for key, address, standing_json, changed_at, position in rows:
            standing = load_standing(json.loads(standing_json))
            found[key] = StatusRow(key, address, standing, verdict(standing, self.policy),
                                   changed_at, position)
        return found

    def after_commit(self, changes: list[StatusRow]) -> None:
        if self.on_change is not None and changes:
            self.on_change(changes)
