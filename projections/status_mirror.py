"""Keeps the Redis status mirror in step with ``email_status`` and reads through it.

``push`` writes the rows a commit just changed (the fast path, after every commit);
``sync`` copies every row whose view position is past the mirror's mark (the repair path,
run by the follower each second), so a write lost while Redis was unreachable is repaired
within a second of Redis coming back. Reads go to Redis first and to SQL for every miss
and whenever Redis fails: the mirror can make a check slower, never wrong in a way that
lets a blocked address through (beyond that repair delay).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import redis

from adapters.redis_cache import StatusCache
from domain.policy import OK, SENDABLE
from projections.email_status import StatusRow
from projections.queries import StatusReader, unknown_status

log = logging.getLogger(__name__)


class StatusMirror:
    def __init__(self, reader: StatusReader, cache: StatusCache) -> None:
        self.reader, self.cache = reader, cache
        self._warned_at = 0.0

    def push(self, rows: list[StatusRow]) -> None:
        try:
            self.cache.put([(row.position, row.as_status()) for row in rows])
        except redis.RedisError as error:
            self._warn("push", error)

    def sync(self, batch: int = 5000) -> int:
        """Copy rows changed since the mark; returns the new mark (or the old on failure)."""
        try:
            mark = self.cache.synced()
            while rows := self.reader.rows_since(mark, batch):
                self.cache.put(rows)
                mark = self.cache.mark_synced(rows[-1][0])
                if len(rows) < batch:
                    break
            return mark
        except redis.RedisError as error:
            self._warn("sync", error)
            return -1

    def refresh(self, batch: int = 5000) -> int:
        """Rewrite every row (after a rebuild swapped the view in); returns the mark."""
        mark = last = 0
        try:
            while rows := self.reader.rows_since(last, batch):
                self.cache.put(rows)
                last = rows[-1][0]
                mark = self.cache.mark_synced(last)
            return mark
        except redis.RedisError as error:
            self._warn("refresh", error)
            return -1

    def _warn(self, what: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 30:
            self._warned_at = now
            log.warning("status mirror %s failed (%s); reads fall back to SQL",
                        what, type(error).__name__)


class StatusLookup:
    """Status reads: the mirror when it answers, SQL for misses and when Redis is down."""

    def __init__(self, reader: StatusReader, cache: StatusCache | None) -> None:
        self.reader, self.cache = reader, cache

    def _cached(self, addresses: Sequence[str]) -> dict[str, dict[str, Any]]:
        if self.cache is None:
            return {}
        try:
            return self.cache.get_many(addresses)
        except redis.RedisError:
            return {}

    def status(self, address: str) -> dict[str, Any]:
        cached = self._cached([address]).get(address)
        return cached if cached is not None else self.reader.status(address)

    def statuses(self, addresses: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """address -> (status, reason) for known addresses (absent = never seen = ok)."""
        unique = list(dict.fromkeys(addresses))
        found = {a: (row["status"], row["reason"]) for a, row in self._cached(unique).items()}
        missing = [a for a in unique if a not in found]
        if missing:
            found.update(self.reader.statuses(missing))
        return found

    def check(self, addresses: Sequence[str]) -> list[dict[str, Any]]:
        """``[{address, status, sendable}]`` in input order."""
        known = self.statuses(addresses)
        results = []
        for address in addresses:
            status = known.get(address, (OK, None))[0]
            results.append({"address": address, "status": status, "sendable": status in SENDABLE})
        return results


__all__ = ["StatusLookup", "StatusMirror", "unknown_status"]
