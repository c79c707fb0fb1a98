"""The event store's tables, written and read on *our* transaction's cursor.

The library (``eventsourcing``) creates the tables and still serves the read side (history,
the notification log). The write path needs more than its recorder gives: the events, the
snapshots, the data keys, the views' rows and their tracking committed in **one**
transaction, with one statement for all aggregates of a batch. So this module speaks the
library's own table layout on a cursor of ``adapters.sql``:

- PostgreSQL: ``<name>_events`` (uuid, version, topic, bytea, ``notification_id`` bigserial),
  ``<name>_snapshots``; writers take the same ``EXCLUSIVE`` table lock as the library, so
  notification ids commit in order and a reader never passes over a gap filled later.
- SQLite: ``stored_events`` (hex id; the rowid is the notification id), ``stored_snapshots``;
  ``BEGIN IMMEDIATE`` already makes writers take turns.

Only the latest snapshot of an aggregate is kept (older ones are deleted with the insert).

``report_keys`` indexes the idempotency key of every report recorded in the last
``domain.seen.WINDOW`` (import keys for good), written with the events: a write asks it
which of a batch's keys are already recorded instead of carrying that memory in snapshots.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from adapters.sql import Cursor

SQLITE_CHUNK = 500


@dataclass(frozen=True)
class Loaded:
    """An aggregate's latest snapshot (if any) and the stored events after it."""

    snapshot: StoredEvent | None
    events: list[StoredEvent]


class SqlEventStore:
    """Events and snapshots on a transaction's cursor (``dialect`` ``sqlite``/``postgresql``)."""

    def __init__(self, dialect: str, events_table: str, snapshots_table: str) -> None:
        self.dialect, self.events, self.snapshots = dialect, events_table, snapshots_table
        self._pg = dialect == "postgresql"

    # -- writing -------------------------------------------------------------------------------

    def lock(self, cur: Cursor) -> None:
        """Serialise writers for the rest of the transaction (PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already has). Readers are not blocked."""
        if self._pg:
            cur.execute(f"LOCK TABLE {self.events} IN EXCLUSIVE MODE")

    def insert(self, cur: Cursor, stored: Sequence[StoredEvent]) -> list[int]:
        """Insert events in order; their notification ids (log positions), in the same order."""
        if not stored:
            return []
        if self._pg:
            cur.execute(
                f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::bytea[]) "
                "RETURNING notification_id",
                _columns(stored))
            return [int(row[0]) for row in cur.fetchall()]
        positions = []
        for s in stored:
            cur.execute(f"INSERT INTO {self.events} VALUES (?, ?, ?, ?) RETURNING rowid",
                        (_sqlite_id(s.originator_id), s.originator_version, s.topic, s.state))
            positions.append(int(cur.fetchone()[0]))
        return positions

    def put_snapshots(self, cur: Cursor, stored: Sequence[StoredEvent]) -> None:
        """Store these snapshots and drop the older snapshots of the same aggregates."""
        if not stored:
            return
        if self._pg:
            ids, versions, topics, states = _columns(stored)
            cur.execute(
                f"WITH old AS (DELETE FROM {self.snapshots} s USING unnest(?::uuid[]) AS n(id) "
                "WHERE s.originator_id = n.id) "
                f"INSERT INTO {self.snapshots} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::bytea[])",
                (ids, ids, versions, topics, states))
            return
        for s in stored:
            key = _sqlite_id(s.originator_id)
            cur.execute(f"DELETE FROM {self.snapshots} WHERE originator_id = ?", (key,))
            cur.execute(f"INSERT INTO {self.snapshots} VALUES (?, ?, ?, ?)",
                        (key, s.originator_version, s.topic, s.state))

    # -- the report index ----------------------------------------------------------------------

    def create_report_index(self, cur: Cursor) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS report_keys (address_id TEXT NOT NULL, "
                    "key TEXT NOT NULL, recorded_at TEXT NOT NULL, permanent BOOLEAN NOT NULL, "
                    "PRIMARY KEY (address_id, key))")
        cur.execute("CREATE INDEX IF NOT EXISTS report_keys_recorded ON report_keys "
                    "(recorded_at) WHERE NOT permanent")

    def index_reports(self, cur: Cursor, rows: Sequence[tuple[str, str, str, bool]]) -> None:
        """``(address_id, key, recorded_at, permanent)`` rows, one statement."""
        if not rows:
            return
        head = "INSERT INTO report_keys (address_id, key, recorded_at, permanent) "
        if self._pg:
            cur.execute(head + "SELECT * FROM unnest(?::text[], ?::text[], ?::text[], "
                        "?::boolean[]) ON CONFLICT DO NOTHING",
                        [list(column) for column in zip(*rows, strict=True)])
        else:
            cur.executemany(head + "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    def recorded(self, cur: Cursor, pairs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(address_id, key)`` pairs the index holds, one statement (per 400 on
        SQLite)."""
        ordered = sorted(pairs)
        if not ordered:
            return set()
        if self._pg:
            cur.execute("SELECT r.address_id, r.key FROM report_keys r JOIN "
                        "unnest(?::text[], ?::text[]) AS p(address_id, key) "
                        "ON r.address_id = p.address_id AND r.key = p.key",
                        ([a for a, _ in ordered], [k for _, k in ordered]))
            return {(a, k) for a, k in cur.fetchall()}
        found: set[tuple[str, str]] = set()
        for start in range(0, len(ordered), 400):
            chunk = ordered[start:start + 400]
            cur.execute("SELECT address_id, key FROM report_keys WHERE (address_id, key) IN "
                        f"(VALUES {','.join('(?, ?)' for _ in chunk)})",
                        [v for pair in chunk for v in pair])
            found.update((a, k) for a, k in cur.fetchall())
        return found

    def forget_reports(self, cur: Cursor, address_id: str | None = None,
                       before: str | None = None) -> None:
        """Drop one address's keys (an erasure), or the keys recorded before ``before``."""
        if address_id is not None:
            cur.execute("DELETE FROM report_keys WHERE address_id = ?", (address_id,))
        elif before is not None:
            cur.execute("DELETE FROM report_keys WHERE NOT permanent AND recorded_at < ?",
                        (before,))

    def drop_snapshots(self, cur: Cursor, originator_id: UUID) -> None:
        """Forget an aggregate's snapshots (an erasure: they hold its personal data)."""
        cur.execute(f"DELETE FROM {self.snapshots} WHERE originator_id = ?",
                    (self._id(originator_id),))

    # -- reading -------------------------------------------------------------------------------

    def load(self, cur: Cursor, ids: Collection[UUID]) -> dict[UUID, Loaded]:
        """Each aggregate's latest snapshot and the events after it, in one statement (one per
        500 aggregates on SQLite). Aggregates with neither are absent."""
        if not ids:
            return {}
        rows: list[Any] = []
        if self._pg:
            # LATERAL, so each aggregate's events are an index range scan that starts after
            # its snapshot (a plain join reads the whole history before filtering it).
            cur.execute(
                "SELECT k.kind, i.id, k.originator_version, k.topic, k.state "
                "FROM unnest(?::uuid[]) AS i(id) "
                "LEFT JOIN LATERAL (SELECT originator_version AS version FROM "
                f"{self.snapshots} WHERE originator_id = i.id "
                "ORDER BY originator_version DESC LIMIT 1) s ON true "
                "JOIN LATERAL ("
                "SELECT 1 AS kind, originator_version, topic, state FROM "
                f"{self.snapshots} WHERE originator_id = i.id AND originator_version = s.version "
                "UNION ALL SELECT 0, originator_version, topic, state FROM "
                f"{self.events} WHERE originator_id = i.id "
                "AND originator_version > COALESCE(s.version, 0)) k ON true "
                "ORDER BY 2, 1 DESC, 3", (list(ids),))
            rows = cur.fetchall()
        else:
            ordered = sorted(_sqlite_id(i) for i in ids)
            for start in range(0, len(ordered), SQLITE_CHUNK):
                chunk = ordered[start:start + SQLITE_CHUNK]
                marks = ",".join("?" * len(chunk))
                latest = (f"(SELECT MAX(originator_version) FROM {self.snapshots} "
                          "WHERE originator_id = t.originator_id)")
                cur.execute(
                    f"SELECT 1, originator_id, originator_version, topic, state "
                    f"FROM {self.snapshots} t WHERE originator_id IN ({marks}) "
                    f"AND originator_version = {latest} "
                    f"UNION ALL SELECT 0, originator_id, originator_version, topic, state "
                    f"FROM {self.events} t WHERE originator_id IN ({marks}) "
                    f"AND originator_version > COALESCE({latest}, 0) ORDER BY 2, 1 DESC, 3",
                    [*chunk, *chunk])
                rows += cur.fetchall()
        return _group(rows)

    def history(self, cur: Cursor, originator_id: UUID) -> list[StoredEvent]:
        """Every stored event of one aggregate, oldest first."""
        cur.execute(f"SELECT originator_id, originator_version, topic, state FROM {self.events} "
                    "WHERE originator_id = ? ORDER BY originator_version",
                    (self._id(originator_id),))
        return [_stored(row) for row in cur.fetchall()]

    def head_query(self) -> str:
        """A scalar subquery for the log's head, to read it with another statement."""
        column = "notification_id" if self._pg else "rowid"
        return f"SELECT MAX({column}) FROM {self.events}"

    def head(self, cur: Cursor, below: int | None = None) -> int:
        """The last position in the log (below ``below``, if given); 0 when empty."""
        column = "notification_id" if self._pg else "rowid"
        where = f" WHERE {column} < ?" if below is not None else ""
        cur.execute(f"SELECT MAX({column}) FROM {self.events}{where}",
                    () if below is None else (below,))
        row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def page(self, cur: Cursor, after: int, limit: int) -> list[Notification]:
        """Up to ``limit`` notifications after position ``after``, in log order."""
        column = "notification_id" if self._pg else "rowid"
        cur.execute(f"SELECT {column}, originator_id, originator_version, topic, state "
                    f"FROM {self.events} WHERE {column} > ? ORDER BY {column} LIMIT ?",
                    (after, limit))
        return [_notification(row) for row in cur.fetchall()]

    def at(self, cur: Cursor, positions: Sequence[int]) -> list[Notification]:
        """The notifications at these positions, in log order."""
        if not positions:
            return []
        column = "notification_id" if self._pg else "rowid"
        found: list[Notification] = []
        for start in range(0, len(positions), SQLITE_CHUNK):
            chunk = list(positions[start:start + SQLITE_CHUNK])
            cur.execute(f"SELECT {column}, originator_id, originator_version, topic, state "
                        f"FROM {self.events} WHERE {column} IN ({','.join('?' * len(chunk))})",
                        chunk)
            found += [_notification(row) for row in cur.fetchall()]
        return sorted(found, key=lambda n: n.id)

    def exists(self, cur: Cursor, originator_id: UUID, version: int) -> bool:
        """Whether this event is stored (did a commit whose answer was lost succeed?)."""
        cur.execute(f"SELECT 1 FROM {self.events} WHERE originator_id = ? "
                    "AND originator_version = ?", (self._id(originator_id), version))
        return cur.fetchone() is not None

    def _id(self, originator_id: UUID) -> Any:
        return originator_id if self._pg else _sqlite_id(originator_id)


def _columns(stored: Sequence[StoredEvent]) -> tuple[list[Any], ...]:
    return ([s.originator_id for s in stored], [s.originator_version for s in stored],
            [s.topic for s in stored], [s.state for s in stored])


def _sqlite_id(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(originator_id=_uuid(row[0]), originator_version=int(row[1]),
                       topic=row[2], state=bytes(row[3]))


def _originator(stored: StoredEvent) -> UUID:
    return _uuid(stored.originator_id)


def _notification(row: Sequence[Any]) -> Notification:
    return Notification(id=int(row[0]), originator_id=_uuid(row[1]),
                        originator_version=int(row[2]), topic=row[3], state=bytes(row[4]))


def _group(rows: Iterable[Sequence[Any]]) -> dict[UUID, Loaded]:
    grouped: dict[UUID, Loaded] = {}
    for kind, *rest in rows:
        stored = _stored(rest)
        originator = _originator(stored)
        loaded = grouped.setdefault(originator, Loaded(None, []))
        if kind == 1:
            grouped[originator] = Loaded(stored, loaded.events)
        else:
            loaded.events.append(stored)
    return grouped
