"""SES suppression sync in SQL: the push outbox and the pull's progress.

Push rows are written by the ``ses_push`` view with its tracking row (one per change, once),
claimed with a lease like webhook deliveries, and marked done by the same view when it
reads the ``AddedToSesSuppressionList``/``RemovedFromSesSuppressionList`` event that records
SES's answer — so an acknowledged call is never made again, even across a crash between the
answer and the bookkeeping. The pull keeps its ``StartDate``, the next page's token and its
counts in one row, saved after each imported page, and is run by one process at a time (a
lease on that row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.sql import Cursor, Database
from adapters.timestamps import iso

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS ses_push_outbox ("
    "id TEXT PRIMARY KEY, position BIGINT NOT NULL, address_id TEXT NOT NULL, address TEXT, "
    "action TEXT NOT NULL, reason TEXT, cause TEXT NOT NULL, state TEXT NOT NULL, "
    "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, lease_until TEXT, "
    "lease_owner TEXT, last_error TEXT, created_at TEXT NOT NULL, done_at TEXT)",
    "CREATE INDEX IF NOT EXISTS ses_push_outbox_due "
    "ON ses_push_outbox (position) WHERE state = 'pending'",
    "CREATE INDEX IF NOT EXISTS ses_push_outbox_address ON ses_push_outbox (address_id)",
    "CREATE TABLE IF NOT EXISTS ses_pull_state ("
    "name TEXT PRIMARY KEY, since TEXT, run_started_at TEXT, next_token TEXT, "
    "pages INTEGER NOT NULL DEFAULT 0, imported INTEGER NOT NULL DEFAULT 0, "
    "skipped INTEGER NOT NULL DEFAULT 0, bad INTEGER NOT NULL DEFAULT 0, "
    "last_finished_at TEXT, last_error TEXT, last_error_at TEXT, lease_until TEXT, "
    "lease_owner TEXT)",
]
PULL_COLUMNS = ("since", "run_started_at", "next_token", "pages", "imported", "skipped", "bad",
                "last_finished_at", "last_error", "last_error_at")


def create_tables(cur: Cursor) -> None:
    for statement in SCHEMA:
        cur.execute(statement)


@dataclass(frozen=True)
class PushCall:
    """One claimed call: put or delete ``address`` on SES's list."""

    id: str
    address: str
    action: str
    reason: str | None
    cause: str
    attempts: int


class SesSyncStore:
    """Claims and settles push calls; reads and saves the pull's progress."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._skip_locked = db.for_update + " SKIP LOCKED" if db.for_update else ""

    def create_tables(self) -> None:
        with self.db.write() as cur:
            create_tables(cur)

    def claim(self, *, now: datetime, owner: str, lease: timedelta,
              limit: int) -> list[PushCall]:
        """Due calls in log order; a call waits while an earlier one for its address is
        pending, so SES hears an address's changes in order."""
        stamp = iso(now)
        with self.db.write() as cur:
            cur.execute(
                "SELECT o.id, o.address, o.action, o.reason, o.cause, o.attempts "
                "FROM ses_push_outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ? "
                "AND (o.lease_until IS NULL OR o.lease_until <= ?) AND NOT EXISTS ("
                "SELECT 1 FROM ses_push_outbox p WHERE p.address_id = o.address_id "
                "AND p.state = 'pending' AND p.position < o.position) "
                f"ORDER BY o.position LIMIT ?{self._skip_locked}", (stamp, stamp, limit))
            rows = cur.fetchall()
            cur.executemany("UPDATE ses_push_outbox SET lease_until = ?, lease_owner = ? "
                            "WHERE id = ?", [(iso(now + lease), owner, r[0]) for r in rows])
        return [PushCall(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]

    def postpone(self, call: PushCall, error: str, *, now: datetime, retry_in: timedelta,
                 max_attempts: int) -> None:
        """A call that failed: try again later, or give up after ``max_attempts``."""
        failed = call.attempts + 1 >= max_attempts
        with self.db.write() as cur:
            cur.execute("UPDATE ses_push_outbox SET attempts = attempts + 1, last_error = ?, "
                        "lease_until = NULL, lease_owner = NULL, next_attempt_at = ?, "
                        "state = ?, done_at = ? WHERE id = ? AND state = 'pending'",
                        (error[:500], iso(now + retry_in), "failed" if failed else "pending",
                         iso(now) if failed else None, call.id))

    def cancel(self, call_id: str, reason: str, now: datetime) -> None:
        with self.db.write() as cur:
            cur.execute("UPDATE ses_push_outbox SET state = 'cancelled', last_error = ?, "
                        "done_at = ? WHERE id = ? AND state = 'pending'",
                        (reason, iso(now), call_id))

    def push_summary(self) -> dict[str, Any]:
        """Counts by state and the latest calls, for the console and the CLI."""
        with self.db.read() as cur:
            cur.execute("SELECT state, COUNT(*) FROM ses_push_outbox GROUP BY state")
            counts = {row[0]: int(row[1]) for row in cur.fetchall()}
            cur.execute("SELECT address, action, reason, cause, state, attempts, last_error, "
                        "created_at, done_at FROM ses_push_outbox ORDER BY position DESC, id "
                        "LIMIT 20")
            keys = ("address", "action", "reason", "cause", "state", "attempts", "last_error",
                    "created_at", "done_at")
            recent = [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
        return {"counts": counts, "recent": recent}

    # -- pull ---------------------------------------------------------------------------------

    def lease_pull(self, *, now: datetime, owner: str, lease: timedelta) -> dict[str, Any] | None:
        """The pull's state, leased to ``owner``; ``None`` while another process runs it."""
        with self.db.write() as cur:
            cur.execute("INSERT INTO ses_pull_state (name) VALUES ('pull') "
                        "ON CONFLICT (name) DO NOTHING")
            cur.execute(f"SELECT {', '.join(PULL_COLUMNS)}, lease_until, lease_owner "
                        f"FROM ses_pull_state WHERE name = 'pull'{self.db.for_update}")
            row = cur.fetchone()
            if row[-2] and row[-2] > iso(now) and row[-1] != owner:
                return None
            cur.execute("UPDATE ses_pull_state SET lease_until = ?, lease_owner = ? "
                        "WHERE name = 'pull'", (iso(now + lease), owner))
        return dict(zip(PULL_COLUMNS, row[:-2], strict=True))

    def save_pull(self, owner: str, **values: Any) -> None:
        """Save progress (only while ``owner`` holds the lease)."""
        names = sorted(values)
        with self.db.write() as cur:
            cur.execute(f"UPDATE ses_pull_state SET {', '.join(f'{n} = ?' for n in names)} "
                        "WHERE name = 'pull' AND lease_owner = ?",
                        [*(values[n] for n in names), owner])

    def pull_state(self) -> dict[str, Any]:
        with self.db.read() as cur:
            cur.execute(f"SELECT {', '.join(PULL_COLUMNS)} FROM ses_pull_state "
                        "WHERE name = 'pull'")
            row = cur.fetchone()
        return dict(zip(PULL_COLUMNS, row, strict=True)) if row else {}


def mark_done(cur: Cursor, ids: Sequence[str], now: datetime | None) -> None:
    """Calls whose acknowledgement the log recorded (the ``ses_push`` view does this)."""
    cur.executemany("UPDATE ses_push_outbox SET state = 'done', lease_until = NULL, "
                    "lease_owner = NULL, done_at = ? WHERE id = ?",
                    [(iso(now), call_id) for call_id in ids])


def forget_address(cur: Cursor, address_id: str, now: datetime | None) -> None:
    """An erased address: its pending calls are cancelled and its name blanked everywhere."""
    cur.execute("UPDATE ses_push_outbox SET address = NULL, "
                "last_error = CASE WHEN state = 'pending' "
                "THEN 'cancelled: the address was erased' ELSE last_error END, "
                "done_at = CASE WHEN state = 'pending' THEN ? ELSE done_at END, "
                "state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END "
                "WHERE address_id = ?", (iso(now), address_id))
