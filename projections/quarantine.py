"""Addresses whose events a view could not apply, set aside so the others keep flowing.

``projection_quarantine`` has one row per quarantined originator (address or sender): when its
first event failed, and the last error. ``projection_waiting`` keeps, per view, the log
positions of its events that wait there (the failing one and every later one of that
originator, so a view never folds an address's events out of order). The quarantine count
lives in the tracking table (row ``~quarantined``), which every batch already reads under its
lock: while it is 0 a batch asks nothing more.

While quarantined, the address fails closed (``email_status``: not sendable, reason
``projection_error``). ``Projector.repair`` applies the waiting events again and, when they
go through, releases the address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.sql import Cursor

COUNT_ROW = "~quarantined"
CREATE = [
    "CREATE TABLE IF NOT EXISTS projection_quarantine ("
    "originator_id TEXT PRIMARY KEY, address TEXT, first_position BIGINT NOT NULL, "
    "error TEXT NOT NULL, failed_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1)",
    "CREATE TABLE IF NOT EXISTS projection_waiting ("
    "view TEXT NOT NULL, originator_id TEXT NOT NULL, position BIGINT NOT NULL, "
    "PRIMARY KEY (view, originator_id, position))",
]
_MAX_ERROR = 2000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _storable(text: str) -> str:
    """An error message that any store can hold (it may quote the poison itself)."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()[:_MAX_ERROR]


class Quarantine:
    """The quarantine's tables, used inside the projector's transactions."""

    def create(self, cur: Cursor) -> None:
        for statement in CREATE:
            cur.execute(statement)
        cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING", (COUNT_ROW,))

    def held(self, cur: Cursor, originators: Collection[UUID]) -> set[UUID]:
        """Which of these originators are quarantined now."""
        ids = sorted({str(o) for o in originators})
        found: set[UUID] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cur.execute("SELECT originator_id FROM projection_quarantine WHERE originator_id "
                        f"IN ({','.join('?' * len(chunk))})", chunk)
            found.update(UUID(row[0]) for row in cur.fetchall())
        return found

    def hold(self, cur: Cursor, originator: UUID, address: str | None, position: int,
             error: str) -> None:
        """Quarantine an originator from ``position`` on (a no-op if it already is)."""
        cur.execute("INSERT INTO projection_quarantine (originator_id, address, first_position, "
                    "error, failed_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (originator_id) DO NOTHING",
                    (str(originator), address, position, _storable(error), _now()))
        self._recount(cur)

    def skip(self, cur: Cursor, views: Sequence[str],
             waiting: Sequence[tuple[UUID, int]]) -> None:
        """Remember, for each view, the positions it did not apply."""
        rows = [(view, str(o), p) for view in views for o, p in waiting]
        if rows:
            cur.executemany("INSERT INTO projection_waiting (view, originator_id, position) "
                            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rows)

    def waiting(self, cur: Cursor, originator: UUID) -> dict[str, list[int]]:
        """Per view, the positions waiting for this originator, in log order."""
        cur.execute("SELECT view, position FROM projection_waiting WHERE originator_id = ? "
                    "ORDER BY position", (str(originator),))
        found: dict[str, list[int]] = defaultdict(list)
        for view, position in cur.fetchall():
            found[view].append(int(position))
        return found

    def release(self, cur: Cursor, originator: UUID) -> None:
        cur.execute("DELETE FROM projection_waiting WHERE originator_id = ?", (str(originator),))
        cur.execute("DELETE FROM projection_quarantine WHERE originator_id = ?",
                    (str(originator),))
        self._recount(cur)

    def still_failing(self, cur: Cursor, originator: UUID, error: str) -> None:
        cur.execute("UPDATE projection_quarantine SET error = ?, failed_at = ?, "
                    "attempts = attempts + 1 WHERE originator_id = ?",
                    (_storable(error), _now(), str(originator)))

    def originators(self, cur: Cursor) -> list[UUID]:
        cur.execute("SELECT originator_id FROM projection_quarantine ORDER BY first_position")
        return [UUID(row[0]) for row in cur.fetchall()]

    def list(self, cur: Cursor) -> list[dict[str, Any]]:
        """What an operator sees: every quarantined originator and why."""
        cur.execute("SELECT q.originator_id, q.address, q.first_position, q.error, "
                    "q.failed_at, q.attempts, (SELECT COUNT(*) FROM projection_waiting w "
                    "WHERE w.originator_id = q.originator_id) "
                    "FROM projection_quarantine q ORDER BY q.first_position")
        keys = ("originator_id", "address", "first_position", "error", "failed_at",
                "attempts", "waiting")
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]

    def count(self, cur: Cursor) -> int:
        cur.execute("SELECT position FROM projection_tracking WHERE name = ?", (COUNT_ROW,))
        row = cur.fetchone()
        return int(row[0]) if row else 0

    def _recount(self, cur: Cursor) -> None:
        cur.execute("UPDATE projection_tracking SET position = "
                    "(SELECT COUNT(*) FROM projection_quarantine) WHERE name = ?", (COUNT_ROW,))
