"""Webhook endpoints in SQL: URL, chosen event types, the signing secret(s), enabled or not.

The secret must be readable to sign, so it is kept as is (like the per-address data keys in
the same database) and returned only once, when it is made; lists never show it. After a
rotation the previous secret keeps signing beside the new one until ``previous_until``.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.background import Loop
from adapters.sql import Cursor, Database
from adapters.timestamps import iso, parse_iso

log = logging.getLogger(__name__)

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS webhook_endpoints ("
    "id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, description TEXT, "
    "secret TEXT NOT NULL, previous_secret TEXT, previous_until TEXT, "
    "enabled BOOLEAN NOT NULL, disabled_reason TEXT, disabled_at TEXT, "
    "failed_in_a_row INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
    "created_by TEXT NOT NULL)",
]
COLUMNS = ("id", "url", "events", "description", "enabled", "disabled_reason", "disabled_at",
           "failed_in_a_row", "created_at", "created_by", "previous_until")


class EndpointNotFound(Exception):
    """No webhook endpoint has that id."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as the API shows it (never with its secret)."""

    id: str
    url: str
    events: tuple[str, ...]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    disabled_at: str | None
    failed_in_a_row: int
    created_at: str
    created_by: str
    previous_until: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "events": list(self.events),
                "description": self.description, "enabled": self.enabled,
                "disabled_reason": self.disabled_reason, "disabled_at": self.disabled_at,
                "failed_in_a_row": self.failed_in_a_row, "created_at": self.created_at,
                "created_by": self.created_by, "previous_secret_valid_until": self.previous_until}


def _endpoint(row: Sequence[Any]) -> Endpoint:
    values = dict(zip(COLUMNS, row, strict=True))
    values["events"] = tuple(json.loads(values["events"]))
    values["enabled"] = bool(values["enabled"])
    return Endpoint(**values)


class EndpointStore:
    """Adds, lists, changes and removes endpoints; gives the dispatcher their secrets."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_tables(self) -> None:
        with self.db.write() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    def add(self, url: str, events: Sequence[str], *, description: str | None, actor: str,
            now: datetime) -> tuple[Endpoint, str]:
        """A new enabled endpoint and its secret (the only time the secret is returned)."""
        endpoint_id, secret = "ep_" + secrets.token_hex(8), new_secret()
        with self.db.write() as cur:
            cur.execute("INSERT INTO webhook_endpoints (id, url, events, description, secret, "
                        "enabled, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (endpoint_id, url, json.dumps(list(events)), description, secret, True,
                         iso(now), actor))
        return self.get(endpoint_id), secret

    def get(self, endpoint_id: str) -> Endpoint:
        with self.db.read() as cur:
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM webhook_endpoints WHERE id = ?",
                        (endpoint_id,))
            row = cur.fetchone()
        if row is None:
            raise EndpointNotFound(endpoint_id)
        return _endpoint(row)

    def all(self) -> list[Endpoint]:
        with self.db.read() as cur:
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM webhook_endpoints "
                        "ORDER BY created_at, id")
            return [_endpoint(row) for row in cur.fetchall()]

    def remove(self, endpoint_id: str) -> None:
        """The endpoint and its delivery log go; nothing more is sent to it."""
        with self.db.write() as cur:
            self._must_exist(cur, endpoint_id)
            cur.execute("DELETE FROM webhook_attempts WHERE delivery_id IN "
                        "(SELECT id FROM webhook_deliveries WHERE endpoint_id = ?)",
                        (endpoint_id,))
            cur.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", (endpoint_id,))
            cur.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))

    def change(self, endpoint_id: str, *, events: Sequence[str] | None = None,
               enabled: bool | None = None, now: datetime | None = None) -> Endpoint:
        """New event types and/or enabled; enabling clears the failure count (deliveries
        kept while it was disabled go out again, in order)."""
        with self.db.write() as cur:
            self._must_exist(cur, endpoint_id)
            if events is not None:
                cur.execute("UPDATE webhook_endpoints SET events = ? WHERE id = ?",
                            (json.dumps(list(events)), endpoint_id))
            if enabled:
                cur.execute("UPDATE webhook_endpoints SET enabled = ?, failed_in_a_row = 0, "
                            "disabled_reason = NULL, disabled_at = NULL WHERE id = ?",
                            (True, endpoint_id))
            elif enabled is not None:
                disable(cur, endpoint_id, "disabled by an admin", now)
        return self.get(endpoint_id)

    def rotate(self, endpoint_id: str, *, overlap: timedelta, now: datetime) -> tuple[str, str]:
        """A new secret; the current one goes on signing until ``now + overlap``.
        Returns the new secret and that time."""
        secret, until = new_secret(), iso(now + overlap) or ""
        with self.db.write() as cur:
            self._must_exist(cur, endpoint_id)
            cur.execute("UPDATE webhook_endpoints SET previous_secret = secret, "
                        "previous_until = ?, secret = ? WHERE id = ?",
                        (until, secret, endpoint_id))
        return secret, until

    def signing_secrets(self, endpoint_id: str, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one
        while its overlap lasts."""
        with self.db.read() as cur:
            cur.execute("SELECT secret, previous_secret, previous_until FROM webhook_endpoints "
                        "WHERE id = ?", (endpoint_id,))
            row = cur.fetchone()
        if row is None:
            raise EndpointNotFound(endpoint_id)
        until = parse_iso(row[2])
        return [row[0]] + ([row[1]] if row[1] and until and until > now else [])

    @staticmethod
    def _must_exist(cur: Cursor, endpoint_id: str) -> None:
        cur.execute("SELECT 1 FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        if cur.fetchone() is None:
            raise EndpointNotFound(endpoint_id)


def disable(cur: Cursor, endpoint_id: str, reason: str, now: datetime | None) -> None:
    """Stop deliveries to an endpoint (they stay queued until it is enabled again)."""
    cur.execute("UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, "
                "disabled_at = ? WHERE id = ? AND enabled = ?",
                (False, reason, iso(now) if now else None, endpoint_id, True))


class Listeners:
    """Whether any endpoint exists, known without a statement in the write path.

    Read at start, after every change made through this process, and every ``interval``
    seconds by a daemon thread: an endpoint added in *another* process receives the events
    recorded here from at most that long after it was added. While nobody listens, the
    ``webhooks`` view costs ingest nothing."""

    def __init__(self, db: Database, interval: float = 1.0) -> None:
        self.db, self.interval = db, interval
        self._any = False
        # The store down: keep the last answer (quietly: the follower already says so).
        self._loop = Loop("webhook-listeners", self.refresh, interval, quiet=True)

    def __call__(self) -> bool:
        return self._any

    def refresh(self) -> None:
        with self.db.read() as cur:
            cur.execute("SELECT 1 FROM webhook_endpoints LIMIT 1")
            self._any = cur.fetchone() is not None

    def start(self) -> None:
        self.refresh()
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop(timeout=5)
