"""The webhook outbox in SQL: deliveries to make, their attempts, and claiming them safely.

A delivery row is written by the ``webhooks`` view in the transaction that moves the view's
tracking row, so each event's deliveries exist exactly once. Any number of dispatchers (in
any number of processes) claim rows with a *lease*: the endpoint's row is locked while one
claims (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the file lock on SQLite), in-flight leases
count against the endpoint's concurrency cap, and a row whose lease ran out (its process
died mid-delivery) is claimed again and re-sent with the same ``webhook-id``. A delivery
waits while an earlier one for the same address (``order_key``) is still pending, so each
receiver sees an address's events in log order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.sql import Cursor, Database
from adapters.timestamps import iso
from adapters.webhook_endpoints import SCHEMA as ENDPOINT_SCHEMA
from adapters.webhook_endpoints import disable
from adapters.webhook_http import Outcome

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
REDACTED_BODY = json.dumps({"redacted": True})
SCHEMA = [
    *ENDPOINT_SCHEMA,
    "CREATE TABLE IF NOT EXISTS webhook_deliveries ("
    "id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, position BIGINT NOT NULL, "
    "ordinal BIGINT NOT NULL, order_key TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, "
    "state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
    "tries INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, lease_until TEXT, "
    "lease_owner TEXT, last_status INTEGER, last_error TEXT, "
    "last_latency_ms DOUBLE PRECISION, created_at TEXT NOT NULL, done_at TEXT)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due "
    "ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE state = 'pending'",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_order "
    "ON webhook_deliveries (endpoint_id, order_key, ordinal) WHERE state = 'pending'",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_list "
    "ON webhook_deliveries (endpoint_id, ordinal)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_subject ON webhook_deliveries (order_key)",
    "CREATE TABLE IF NOT EXISTS webhook_attempts ("
    "delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at TEXT NOT NULL, status INTEGER, "
    "error TEXT, latency_ms DOUBLE PRECISION, PRIMARY KEY (delivery_id, attempt))",
]
LIST_COLUMNS = ("id", "type", "state", "attempts", "tries", "position", "created_at",
                "next_attempt_at", "done_at", "last_status", "last_error", "last_latency_ms",
                "body")


def create_tables(cur: Cursor) -> None:
    for statement in SCHEMA:
        cur.execute(statement)


class DeliveryNotFound(Exception):
    """No delivery with that id for that endpoint."""


class DeliveryErased(Exception):
    """The delivery's address was erased: its payload is gone and it cannot be re-sent."""


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to one dispatcher."""

    id: str
    endpoint_id: str
    url: str
    body: str
    type: str
    attempts: int
    tries: int
    secrets: tuple[str, ...] = ()  # what signs it now (two during a rotation's overlap)


@dataclass(frozen=True)
class Retrying:
    """The retry rules: attempts before a delivery fails, failed deliveries in a row before
    its endpoint is disabled, and the delay before attempt ``n + 1``."""

    max_attempts: int
    disable_after: int
    delay: Callable[[int, float | None], float]


class Outbox:
    """Claims, finishes, lists and re-sends deliveries."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._skip_locked = db.for_update + " SKIP LOCKED" if db.for_update else ""

    def due_endpoints(self, now: datetime) -> list[str]:
        """Enabled endpoints with at least one delivery due and not leased."""
        stamp = iso(now)
        with self.db.read() as cur:
            cur.execute("SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d "
                        "JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                        "WHERE d.state = 'pending' AND e.enabled = ? AND d.next_attempt_at <= ? "
                        "AND (d.lease_until IS NULL OR d.lease_until <= ?)", (True, stamp, stamp))
            return [row[0] for row in cur.fetchall()]

    def next_due(self) -> str | None:
        """The earliest time a pending delivery of an enabled endpoint may be tried."""
        with self.db.read() as cur:
            cur.execute("SELECT MIN(COALESCE(d.lease_until, d.next_attempt_at)) "
                        "FROM webhook_deliveries d JOIN webhook_endpoints e "
                        "ON e.id = d.endpoint_id WHERE d.state = 'pending' AND e.enabled = ?",
                        (True,))
            row = cur.fetchone()
        return row[0] if row else None

    def claim(self, endpoint_id: str, *, now: datetime, owner: str, cap: int, lease: timedelta,
              limit: int) -> list[Claimed]:
        """Lease up to ``limit`` due deliveries of one endpoint, within its cap."""
        stamp = iso(now)
        with self.db.write() as cur:
            cur.execute(f"SELECT url, enabled, secret, previous_secret, previous_until "
                        f"FROM webhook_endpoints WHERE id = ?{self._skip_locked}",
                        (endpoint_id,))
            endpoint = cur.fetchone()
            if endpoint is None or not endpoint[1]:
                return []
            cur.execute("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ? "
                        "AND state = 'pending' AND lease_until > ?", (endpoint_id, stamp))
            free = min(cap - int(cur.fetchone()[0]), limit)
            if free <= 0:
                return []
            cur.execute(
                "SELECT d.id, d.body, d.type, d.attempts, d.tries FROM webhook_deliveries d "
                "WHERE d.endpoint_id = ? AND d.state = 'pending' AND d.next_attempt_at <= ? "
                "AND (d.lease_until IS NULL OR d.lease_until <= ?) AND NOT EXISTS ("
                "SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id "
                "AND p.order_key = d.order_key AND p.state = 'pending' "
                "AND p.ordinal < d.ordinal) ORDER BY d.ordinal LIMIT ?",
                (endpoint_id, stamp, stamp, free))
            rows = cur.fetchall()
            cur.executemany("UPDATE webhook_deliveries SET lease_until = ?, lease_owner = ? "
                            "WHERE id = ?", [(iso(now + lease), owner, r[0]) for r in rows])
        secrets = (endpoint[2],) + ((endpoint[3],) if endpoint[3] and endpoint[4]
                                    and endpoint[4] > stamp else ())
        return [Claimed(r[0], endpoint_id, endpoint[0], r[1], r[2], int(r[3]), int(r[4]),
                        secrets) for r in rows]

    def finish(self, claimed: Claimed, outcome: Outcome, *, now: datetime, owner: str,
               rules: Retrying) -> str:
        """Log the attempt and move the delivery on: delivered, retried later, or failed
        (and the endpoint disabled after too many failed deliveries, or at once on 410)."""
        attempts, tries = claimed.attempts + 1, claimed.tries + 1
        state, next_at = self._next_state(outcome, attempts, now, rules)
        with self.db.write() as cur:
            cur.execute("INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, "
                        "latency_ms) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (delivery_id, attempt) DO NOTHING",
                        (claimed.id, tries, iso(now), outcome.status, outcome.error,
                         round(outcome.latency_s * 1000, 3)))
            cur.execute("UPDATE webhook_deliveries SET state = ?, attempts = ?, tries = ?, "
                        "next_attempt_at = ?, lease_until = NULL, lease_owner = NULL, "
                        "last_status = ?, last_error = ?, last_latency_ms = ?, done_at = ? "
                        "WHERE id = ? AND lease_owner = ? AND state = 'pending' RETURNING id",
                        (state, attempts, tries, iso(next_at), outcome.status, outcome.error,
                         round(outcome.latency_s * 1000, 3),
                         None if state == PENDING else iso(now), claimed.id, owner))
            if cur.fetchone() is not None:
                self._judge_endpoint(cur, claimed.endpoint_id, outcome, state, now, rules)
        return state

    @staticmethod
    def _next_state(outcome: Outcome, attempts: int, now: datetime,
                    rules: Retrying) -> tuple[str, datetime]:
        if outcome.delivered:
            return DELIVERED, now
        if attempts >= rules.max_attempts:
            return FAILED, now
        return PENDING, now + timedelta(seconds=rules.delay(attempts, outcome.retry_after_s))

    @staticmethod
    def _judge_endpoint(cur: Cursor, endpoint_id: str, outcome: Outcome, state: str,
                        now: datetime, rules: Retrying) -> None:
        if state == DELIVERED:
            # Only when there is something to reset: a lock on the endpoint row would make
            # the next claim (SKIP LOCKED) pass this endpoint by.
            cur.execute("UPDATE webhook_endpoints SET failed_in_a_row = 0 "
                        "WHERE id = ? AND failed_in_a_row <> 0", (endpoint_id,))
        elif state == FAILED:
            cur.execute("UPDATE webhook_endpoints SET failed_in_a_row = failed_in_a_row + 1 "
                        "WHERE id = ? RETURNING failed_in_a_row", (endpoint_id,))
            row = cur.fetchone()
            if row is not None and int(row[0]) >= rules.disable_after:
                disable(cur, endpoint_id, f"{row[0]} deliveries in a row failed after "
                        f"{rules.max_attempts} attempts each", now)
        if outcome.status == 410:
            disable(cur, endpoint_id, "the receiver answered 410 Gone", now)

    def deliveries(self, endpoint_id: str, *, limit: int = 50, before: int | None = None,
                   state: str | None = None) -> list[dict[str, Any]]:
        """The endpoint's deliveries, newest first, each with its attempts."""
        where: list[str] = ["endpoint_id = ?"]
        params: list[Any] = [endpoint_id]
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if before is not None:
            where.append("ordinal < ?")
            params.append(before)
        with self.db.read() as cur:
            cur.execute(f"SELECT {', '.join(LIST_COLUMNS)}, ordinal FROM webhook_deliveries "
                        f"WHERE {' AND '.join(where)} ORDER BY ordinal DESC LIMIT ?",
                        [*params, limit])
            rows = cur.fetchall()
            attempts = self._attempts(cur, [r[0] for r in rows])
        return [_delivery(row, attempts.get(row[0], [])) for row in rows]

    @staticmethod
    def _attempts(cur: Cursor, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        if not ids:
            return found
        cur.execute("SELECT delivery_id, attempt, at, status, error, latency_ms "
                    f"FROM webhook_attempts WHERE delivery_id IN ({','.join('?' * len(ids))}) "
                    "ORDER BY delivery_id, attempt", list(ids))
        for delivery_id, attempt, at, status, error, latency in cur.fetchall():
            found.setdefault(delivery_id, []).append({
                "attempt": attempt, "at": at, "status": status, "error": error,
                "latency_ms": latency})
        return found

    def resend(self, endpoint_id: str, delivery_id: str, now: datetime) -> None:
        """Send a delivery again now, whatever its state (a fresh set of attempts)."""
        with self.db.write() as cur:
            cur.execute("SELECT state FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?",
                        (delivery_id, endpoint_id))
            row = cur.fetchone()
            if row is None:
                raise DeliveryNotFound(delivery_id)
            if row[0] == CANCELLED:
                raise DeliveryErased(delivery_id)
            cur.execute("UPDATE webhook_deliveries SET state = 'pending', attempts = 0, "
                        "next_attempt_at = ?, done_at = NULL WHERE id = ?",
                        (iso(now), delivery_id))

    def pending_counts(self) -> dict[str, int]:
        with self.db.read() as cur:
            cur.execute("SELECT endpoint_id, COUNT(*) FROM webhook_deliveries "
                        "WHERE state = 'pending' GROUP BY endpoint_id")
            return {row[0]: int(row[1]) for row in cur.fetchall()}


def _delivery(row: Sequence[Any], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    values = dict(zip(LIST_COLUMNS, row, strict=False))
    values["payload"] = json.loads(values.pop("body"))
    values["cursor"] = int(row[-1])
    values["attempts_log"] = attempts
    return values


def redact_subject(cur: Cursor, order_key: str, now: datetime) -> None:
    """An erased address: every stored payload about it is blanked, and what was still to be
    sent is cancelled — its name must not leave after the erasure."""
    cur.execute("UPDATE webhook_deliveries SET body = ?, "
                "last_error = CASE WHEN state = 'pending' "
                "THEN 'cancelled: the address was erased' ELSE last_error END, "
                "done_at = CASE WHEN state = 'pending' THEN ? ELSE done_at END, "
                "state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END "
                "WHERE order_key = ?", (REDACTED_BODY, iso(now), order_key))
