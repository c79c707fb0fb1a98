"""Keeps the Redis status mirror in step with ``email_status`` and reads through it.

Writing: after every commit, ``observe`` writes the rows the commit changed and moves the
mirror's mark over the positions that commit covered — only if the mark stood exactly where
the commit began (compare-and-set, ``adapters.redis_cache``). ``sync`` (the follower, each
second) copies every row changed since the mark and moves the mark to the view's position,
also by compare-and-set; when the mirror's epoch differs from the database's (Redis came
back empty, or belongs to another database) it starts the mirror over.

Reading: ``StatusLookup`` uses a mirror entry only when it can prove the entry is not older
than the view: the mirror's epoch is the database's and its mark has reached the view's
position, both read for this very request (one ``MGET`` and one indexed SQL read). Otherwise
— Redis restarted empty or from an older snapshot, a replica failed over, Redis paused while
writes went by — the answer comes from SQL. The mirror can make a check slower, never wrong.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

import redis

from adapters.redis_cache import Mirrored, StatusCache
from adapters.sql import Database
from domain.policy import OK, Known
from projections.base import Applied
from projections.email_status import StatusRow
from projections.queries import StatusReader, unknown_status

log = logging.getLogger(__name__)

EPOCH_ROW = "~mirror_epoch"
VIEW = "email_status"


def mirrored(row: StatusRow) -> Mirrored:
    return Mirrored(row.position, row.sendable, row.verdict.status, row.reason)


class MirrorMarks:
    """The SQL side of the proof: the view's position and the mirror epoch of this database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self) -> None:
        """Give the database an epoch once (a random number in the tracking table)."""
        with self.db.write() as cur:
            cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, ?) "
                        "ON CONFLICT (name) DO NOTHING", (EPOCH_ROW, secrets.randbits(62)))

    def read(self) -> tuple[int, str]:
        """``(view position, epoch)`` in one statement."""
        with self.db.read() as cur:
            cur.execute("SELECT name, position FROM projection_tracking WHERE name IN (?, ?)",
                        (VIEW, EPOCH_ROW))
            found = dict(cur.fetchall())
        return int(found.get(VIEW, 0)), str(found.get(EPOCH_ROW, ""))


class StatusMirror:
    """Writes the mirror (after commits, and the follower's repair)."""

    def __init__(self, reader: StatusReader, cache: StatusCache, marks: MirrorMarks) -> None:
        self.reader, self.cache, self.marks = reader, cache, marks
        self._epoch: str | None = None
        self._warned_at = 0.0

    def epoch(self) -> str:
        if self._epoch is None:
            self._epoch = self.marks.read()[1]
        return self._epoch

    def observe(self, applied: Applied) -> None:
        """After a commit: its rows, and the mark over the positions it covered."""
        rows = [(row.address, mirrored(row)) for view, change in applied.changes
                if view.name == VIEW for row in change]
        span = applied.spans.get(VIEW)
        if not rows and span is None:
            return
        try:
            expected, new = span if span is not None else (0, -1)
            self.cache.put(rows, expected=expected, new=new, epoch=self.epoch())
        except redis.RedisError as error:
            self._warn("push", error)

    def sync(self, batch: int = 5000) -> int:
        """Copy rows changed since the mark and move the mark to the view's position (or
        start over under this database's epoch). Returns the mark, -1 on a Redis failure."""
        try:
            position, epoch = self.marks.read()
            state = self.cache.state()
            if state.epoch != epoch:
                log.warning("status mirror: Redis does not hold this database's mirror "
                            "(restarted empty, or another database's); rebuilding it")
                self.cache.reset(epoch)
                state = self.cache.state()
            mark = state.mark
            if mark >= position:
                return mark
            rows = self.reader.rows_since(mark, batch)
            while len(rows) == batch:  # the rest first; the mark moves with the last chunk
                self.cache.put([(a, e) for a, e in rows], epoch=epoch)
                rows = self.reader.rows_since(rows[-1][1].position, batch)
            return self.cache.put(rows, expected=mark, new=position, epoch=epoch)
        except redis.RedisError as error:
            self._warn("sync", error)
            return -1

    def refresh(self) -> int:
        """Rewrite every row (after a rebuild swapped the view in); returns the mark."""
        try:
            self.cache.reset(self.epoch())
        except redis.RedisError as error:
            self._warn("refresh", error)
            return -1
        return self.sync()

    def _warn(self, what: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 30:
            self._warned_at = now
            log.warning("status mirror %s failed (%s); reads fall back to SQL",
                        what, type(error).__name__)


class StatusLookup:
    """Status reads: the mirror when it proves itself current, SQL otherwise."""

    def __init__(self, reader: StatusReader, cache: StatusCache | None,
                 marks: MirrorMarks | None = None) -> None:
        self.reader, self.cache, self.marks = reader, cache, marks

    def status(self, address: str) -> dict[str, Any]:
        """The full SPEC §5 row: one indexed SQL read (as cheap as proving a mirror entry)."""
        return self.reader.status(address)

    def statuses(self, addresses: Sequence[str]) -> dict[str, Known]:
        """address -> ``Known`` for known addresses (absent = never seen = ok)."""
        unique = list(dict.fromkeys(addresses))
        found = self._proven(unique)
        missing = [a for a in unique if a not in found]
        if missing:
            found.update(self.reader.statuses(missing))
        return found

    def _proven(self, addresses: list[str]) -> dict[str, Known]:
        if self.cache is None or self.marks is None or not addresses:
            return {}
        try:
            entries, state = self.cache.get_many(addresses)
        except redis.RedisError:
            return {}
        position, epoch = self.marks.read()
        if state.epoch != epoch or state.mark < position:
            return {}
        return entries

    def check(self, addresses: Sequence[str]) -> list[dict[str, Any]]:
        """``[{address, status, sendable}]`` in input order."""
        known = self.statuses(addresses)
        unknown = Known(OK, True, None)
        results = []
        for address in addresses:
            status, sendable, _ = known.get(address, unknown)
            results.append({"address": address, "status": status, "sendable": sendable})
        return results


__all__ = ["MirrorMarks", "StatusLookup", "StatusMirror", "unknown_status"]
