"""``email_status``: each address's current status, reason, diagnostic and counts.

The row keeps the folded ``Standing`` as JSON so the next event folds in without
re-reading the address's history. ``changed_at`` is when the status last changed
(recorded time), for the "newest change first" list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from adapters.sql import Cursor, copy_rows
from domain.address import Address
from domain.policy import COUNT_NAMES, Mark, Policy, Standing, apply, verdict
from domain.standing_json import load_standing
from projections.base import Positioned, insert_rows, iso, parse_iso
from projections.bulk import LogEvent
from projections.status_changes import StatusChange, StatusChanges
from projections.status_rows import (
    BLOCK_COLUMNS,
    COLUMNS,
    TYPES,
    Folded,
    StatusRow,
    fold_histories,
)
from projections.tables import LIVE, Names

__all__ = ["COLUMNS", "TYPES", "EmailStatusView", "StatusRow"]

TABLES = ("email_status", "erased_blocks")


def create_tables(n: Names) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {n('email_status')} ("
        "address_id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE, status TEXT NOT NULL, "
        "sendable BOOLEAN NOT NULL, reason TEXT, diagnostic TEXT, since TEXT, "
        "last_event_at TEXT, changed_at TEXT, "
        + ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in COUNT_NAMES)
        + ", standing TEXT NOT NULL, position BIGINT NOT NULL)",
        # Blocks that outlived an erasure, under a keyed hash of the address (``Erased``).
        f"CREATE TABLE IF NOT EXISTS {n('erased_blocks')} ("
        "address_hash TEXT PRIMARY KEY, address_id TEXT NOT NULL, status TEXT NOT NULL, "
        "erased_at TEXT NOT NULL, position BIGINT NOT NULL)",
    ]


def create_indexes(n: Names) -> list[str]:
    table = n("email_status")
    return [
        f"DROP INDEX IF EXISTS {table}_status_changed",  # replaced by …_status_list
        f"CREATE INDEX IF NOT EXISTS {table}_changed ON {table} (changed_at)",
        f"CREATE INDEX IF NOT EXISTS {table}_position ON {table} (position)",
        # The address list (projections/address_list.py): every non-ok row, or one status,
        # newest change first, with address_id breaking ties for the cursor.
        f"CREATE INDEX IF NOT EXISTS {table}_blocked_list "
        f"ON {table} (changed_at DESC, address_id DESC) WHERE status <> 'ok'",
        f"CREATE INDEX IF NOT EXISTS {table}_status_list "
        f"ON {table} (status, changed_at DESC, address_id DESC)",
    ]


class EmailStatusView:
    """Folds address events under the policy; ``on_change`` hears the rows a commit changed
    (the Redis status mirror)."""

    name = "email_status"
    tables = TABLES
    # A rebuild folds each address's whole history at once (``load``), decoding its events.
    bulk_reads_data = True

    def __init__(self, policy: Policy,
                 on_change: Callable[[list[StatusRow]], None] | None = None,
                 changes: StatusChanges | None = None, names: Names = LIVE) -> None:
        """``changes`` hears every status change, event by event, inside the transaction
        (the outbox views after this one read it). A shadow has neither listener."""
        self.policy, self.on_change, self.changes = policy, on_change, changes
        self.names = names
        self.status_table, self.blocks_table = names("email_status"), names("erased_blocks")

    def shadow(self, names: Names) -> EmailStatusView:
        """The same view over other tables, without listeners (a rebuild's shadow)."""
        return EmailStatusView(self.policy, names=names)

    def create(self, cur: Cursor) -> None:
        for statement in create_tables(self.names) + (
                create_indexes(self.names) if self.names.indexes else []):
            cur.execute(statement)

    def clear(self, cur: Cursor) -> None:
        cur.execute(f"DELETE FROM {self.status_table}")
        cur.execute(f"DELETE FROM {self.blocks_table}")

    def load(self, cur: Cursor, events: Sequence[LogEvent]) -> None:
        """Whole histories (every event of each address, in order) into empty tables."""
        self.write(cur, self.folder(events))

    @property
    def folder(self) -> Callable[[Sequence[LogEvent]], Folded]:
        """The fold of whole histories to rows, as a function another process can run."""
        return partial(fold_histories, policy=self.policy)

    def write(self, cur: Cursor, folded: Folded) -> None:
        """Rows the folder made, into the (empty until now) tables."""
        rows, blocks = folded
        copy_rows(cur, self.status_table, COLUMNS, rows)
        copy_rows(cur, self.blocks_table, BLOCK_COLUMNS, blocks)

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> list[StatusRow]:
        # ``Redacted`` events are not ``Address.Event``s: an erased history counts for nothing.
        events = [(p, e) for p, e in events if isinstance(e, Address.Event)]
        rows = self._load(cur, {str(e.originator_id) for _, e in events})
        touched: dict[str, StatusRow] = {}
        if self.changes is not None:
            self.changes.begin()
        for position, event in events:
            key = str(event.originator_id)
            if isinstance(event, Address.Erased):
                self._erase(cur, key, event, position, rows, touched)
                continue
            row = rows.get(key) or self._new_row(cur, key, event)
            if row is None:  # a fact of an erased address read with a stale key elsewhere
                continue
            row.standing = apply(row.standing, event, self.policy)
            new = verdict(row.standing, self.policy)
            if new.status != row.verdict.status or row.changed_at is None:
                row.changed_at = iso(event.timestamp)
            if new.status != row.verdict.status and self.changes is not None:
                self.changes.add(StatusChange(position, key, row.address, row.verdict.status,
                                              new.status, new.reason, new.diagnostic,
                                              iso(new.since), event))
            row.verdict, row.position = new, position
            rows[key] = touched[key] = row
        self._write(cur, list(touched.values()))
        return list(touched.values())

    def _write(self, cur: Cursor, rows: list[StatusRow]) -> None:
        updates = ",".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        insert_rows(cur, f"INSERT INTO {self.status_table} ({','.join(COLUMNS)})",
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
        if isinstance(event, Address.RegisteredAgain):
            cur.execute(f"SELECT status, erased_at FROM {self.blocks_table} "
                        "WHERE address_id = ?", (key,))
            block = cur.fetchone()
            if block is not None:
                standing = Standing(erased=Mark(parse_iso(block[1]) or event.timestamp,
                                                block[0], None))
        return StatusRow(key, address, standing, verdict(standing, self.policy), None, 0)

    def _erase(self, cur: Cursor, key: str, event: Any, position: int,
               rows: dict[str, StatusRow], touched: dict[str, StatusRow]) -> None:
        """The row goes; a block stays behind under the keyed hash, in this transaction."""
        touched.pop(key, None)  # a row changed earlier in this batch is not written at all
        rows.pop(key, None)
        cur.execute(f"DELETE FROM {self.status_table} WHERE address_id = ?", (key,))
        cur.execute(f"DELETE FROM {self.blocks_table} WHERE address_id = ?", (key,))
        if event.blocked and event.address_hash:
            cur.execute(f"INSERT INTO {self.blocks_table} (address_hash, address_id, status, "
                        "erased_at, position) VALUES (?, ?, ?, ?, ?)",
                        (event.address_hash, key, event.status, iso(event.occurred_at),
                         position))

    def _load(self, cur: Cursor, keys: set[str]) -> dict[str, StatusRow]:
        found: dict[str, StatusRow] = {}
        ordered = sorted(keys)
        select = ("SELECT address_id, address, standing, changed_at, position "
                  f"FROM {self.status_table} ")
        if cur.dialect == "postgresql":  # one statement text whatever the count
            cur.execute(select + "WHERE address_id = ANY(?)", (ordered,))
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
