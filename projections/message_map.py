"""``message_map``: SES message id -> recipients, profile ids and sender.

Durable in SQL; when Redis is configured the same entries also go to Redis with a TTL
after commit (``on_sent``), so the webhook finds them in one round trip. Rebuildable
from ``MessageSent`` events like every view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis

from adapters.redis_cache import MessageMapCache
from adapters.sql import Cursor
from projections.base import Positioned, insert_rows, iso
from projections.tables import LIVE, Names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MappedSend:
    """One recipient of one SES message."""

    message_id: str
    address: str
    profile_id: str | None
    sender: str | None


@dataclass
class MapChanges:
    """What a batch added, and which message ids an erasure removed."""

    sends: list[MappedSend]
    forgotten: list[str]


class MessageMapView:
    name = "message_map"
    tables = ("message_map",)

    def __init__(self, names: Names = LIVE) -> None:
        self.table = names("message_map")
        self.on_sent: list[Callable[[list[MappedSend]], None]] = []
        # After an erasure: the message ids whose cached entries name the erased address.
        self.on_forget: list[Callable[[list[str]], None]] = []

    def shadow(self, names: Names) -> MessageMapView:
        return MessageMapView(names)

    def create(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ("
                    "message_id TEXT NOT NULL, address_id TEXT NOT NULL, profile_id TEXT, "
                    "sender TEXT, sent_at TEXT, position BIGINT NOT NULL, "
                    "PRIMARY KEY (message_id, address_id))")

    def clear(self, cur: Cursor) -> None:
        cur.execute(f"DELETE FROM {self.table}")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> MapChanges:
        changes = MapChanges([], [])
        run: list[Positioned] = []
        for position, event in events:  # an erasure deletes what the sends before it added
            if type(event).__name__ == "Erased":
                changes.sends += self._insert(cur, run)
                changes.forgotten += self._erase(cur, str(event.originator_id))
                run = []
            elif type(event).__name__ == "MessageSent":
                run.append((position, event))
        changes.sends += self._insert(cur, run)
        return changes

    def _erase(self, cur: Cursor, key: str) -> list[str]:
        cur.execute(f"SELECT message_id FROM {self.table} WHERE address_id = ?", (key,))
        message_ids = [row[0] for row in cur.fetchall()]
        cur.execute(f"DELETE FROM {self.table} WHERE address_id = ?", (key,))
        return message_ids

    def _insert(self, cur: Cursor, sends: list[Positioned]) -> list[MappedSend]:
        if not sends:
            return []
        insert_rows(
            cur, f"INSERT INTO {self.table} (message_id, address_id, profile_id, sender, "
            "sent_at, position)",
            [(e.message_id, str(e.originator_id), e.profile_id, e.sender, iso(e.occurred_at), p)
             for p, e in sends], "ON CONFLICT (message_id, address_id) DO NOTHING")
        return self._resolve(cur, [e for _, e in sends]) if self.on_sent else []

    @staticmethod
    def _resolve(cur: Cursor, sends: list) -> list[MappedSend]:  # type: ignore[type-arg]
        ids = sorted({str(e.originator_id) for e in sends})
        cur.execute(f"SELECT address_id, address FROM email_status WHERE address_id IN "
                    f"({','.join('?' * len(ids))})", ids)
        addresses = dict(cur.fetchall())
        # A send followed by an erasure in the same batch has no address to cache any more.
        return [MappedSend(e.message_id, addresses[str(e.originator_id)], e.profile_id, e.sender)
                for e in sends if str(e.originator_id) in addresses]

    def after_commit(self, changes: MapChanges) -> None:
        for callback in self.on_sent:
            callback(changes.sends)
        if changes.forgotten:
            for forget in self.on_forget:
                forget(changes.forgotten)


class MessageLookup:
    """Recipients of an SES message: Redis when it knows them, else the SQL view."""

    def __init__(self, sql_lookup: Callable[[str], list[MappedSend]],
                 cache: MessageMapCache | None) -> None:
        self.sql_lookup, self.cache = sql_lookup, cache
        self._warned = False

    def remember(self, sends: list[MappedSend]) -> None:
        """After commit: copy new entries to Redis (best effort; SQL stays the truth)."""
        if self.cache is None or not sends:
            return
        try:
            self.cache.remember([(s.message_id, s.address, s.profile_id, s.sender)
                                 for s in sends])
        except redis.RedisError as error:
            log.warning("message map: Redis write failed (%s)", type(error).__name__)

    def forget(self, message_ids: list[str]) -> None:
        """After an erasure: drop the cached entries of these messages (they name the erased
        address). A failure is logged loudly: the entries then expire with their TTL."""
        if self.cache is None or not message_ids:
            return
        try:
            self.cache.forget(message_ids)
        except redis.RedisError as error:
            log.error("message map: Redis delete after an erasure failed (%s); %d entries "
                      "expire with their TTL", type(error).__name__, len(message_ids))

    def sends(self, message_id: str) -> list[MappedSend]:
        if self.cache is not None:
            try:
                cached = self.cache.lookup(message_id)
            except redis.RedisError:
                cached = None
            if cached:
                return [MappedSend(message_id, a, p, s) for a, p, s in cached]
        return self.sql_lookup(message_id)
