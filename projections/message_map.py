"""``message_map``: SES message id -> recipients, profile ids and sender.

Durable in SQL; when Redis is configured the same entries also go to Redis with a TTL
after commit (``on_sent``), so the webhook finds them in one round trip. Rebuildable
from ``MessageSent`` events like every view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import redis

from adapters.redis_cache import MessageMapCache
from adapters.ses_events import MessageInfo
from adapters.sql import Cursor
from domain.address import Address
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
    """``on_sent`` hears new entries after commit; ``on_forget`` the message ids whose cached
    entries named an erased address (both: the Redis copy, ``MessageLookup``)."""

    name = "message_map"
    tables = ("message_map",)

    def __init__(self, on_sent: Callable[[list[MappedSend]], None] | None = None,
                 on_forget: Callable[[list[str]], None] | None = None,
                 names: Names = LIVE) -> None:
        self.on_sent, self.on_forget = on_sent, on_forget
        self.table = names("message_map")

    def shadow(self, names: Names) -> MessageMapView:
        """The same view over other tables, without listeners (a rebuild's shadow)."""
        return MessageMapView(names=names)

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
            if isinstance(event, Address.Erased):
                changes.sends += self._insert(cur, run)
                changes.forgotten += self._erase(cur, str(event.originator_id))
                run = []
            elif isinstance(event, Address.MessageSent):
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
             for p, e in sends], "ON CONFLICT (message_id, address_id) DO NOTHING",
            ("text", "text", "text", "text", "text", "bigint"))
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
        if self.on_sent is not None and changes.sends:
            self.on_sent(changes.sends)
        if self.on_forget is not None and changes.forgotten:
            self.on_forget(changes.forgotten)


class MessageLookup:
    """Recipients of SES messages: Redis when it knows them, else the SQL view — for a whole
    batch at once (one Redis pipeline, one SQL query for the misses)."""

    def __init__(self, sql_lookup: Callable[[Collection[str]], list[MappedSend]],
                 cache: MessageMapCache | None) -> None:
        self.sql_lookup, self.cache = sql_lookup, cache

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
        return self.many([message_id]).get(message_id, [])

    def many(self, message_ids: Collection[str]) -> dict[str, list[MappedSend]]:
        """message id -> its recorded recipients, for the ids that have any."""
        found: dict[str, list[MappedSend]] = {}
        if self.cache is not None and message_ids:
            try:
                for message_id, cached in self.cache.lookup_many(message_ids).items():
                    found[message_id] = [MappedSend(message_id, a, p, s) for a, p, s in cached]
            except redis.RedisError:
                pass
        missing = [m for m in message_ids if m not in found]
        for send in self.sql_lookup(missing) if missing else []:
            found.setdefault(send.message_id, []).append(send)
        return found

    def infos(self, message_ids: Collection[str]) -> dict[str, MessageInfo]:
        """What the ingest needs of each message: recipients, their profiles, the sender."""
        return {message_id: MessageInfo(
                    recipients=tuple(s.address for s in sends), sender=sends[0].sender,
                    profile_ids={s.address: s.profile_id for s in sends})
                for message_id, sends in self.many(message_ids).items()}
