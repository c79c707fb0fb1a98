"""Redis in front of the SQL views: a status mirror and the message map, both optional.

The status mirror holds one entry per address under ``{prefix}status:{address}``, as plain
text read without JSON: ``"<position> <sendable 0|1> <status> <reason>"`` — what a check
needs. A Lua script only ever replaces an entry with a newer one, so writers racing from
several processes cannot move an entry backwards.

An entry alone proves nothing (Redis may have restarted empty, from an older snapshot, or
paused while writes were lost). The *mark* (``{prefix}status:mark``) does: every row the view
changed at a position up to the mark is in Redis at that position or later. It is only ever
moved by compare-and-set, in the same script as the rows that justify it, so it can never
claim rows Redis does not hold. A reader trusts the entries only when the mark has reached
the view's position read from SQL, and only while the mirror's epoch matches the
database's; otherwise it reads SQL (``projections.status_mirror``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import NamedTuple

import redis

from domain.policy import Known

# KEYS: mark, epoch key, then one key per row; ARGV: expected mark, new mark, epoch, then
# position and value per row. Rows are written newer-only; the mark moves only from the
# expected value (or not at all when the new mark is -1) and only under the same epoch.
_PUT = """
local mark = tonumber(redis.call('GET', KEYS[1]) or '0')
for i = 3, #KEYS do
  local position = tonumber(ARGV[2 * i - 2])
  local current = redis.call('GET', KEYS[i])
  if not current or tonumber(string.match(current, '^%d+')) <= position then
    redis.call('SET', KEYS[i], ARGV[2 * i - 2] .. ' ' .. ARGV[2 * i - 1])
  end
end
local expected, new = tonumber(ARGV[1]), tonumber(ARGV[2])
if new >= 0 and mark == expected and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[2])
  return new
end
return mark
"""
_RESET = """
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], '0')
return 0
"""


class Mirrored(NamedTuple):
    """One mirror entry: the view position it reflects and what a check needs."""

    position: int
    sendable: bool
    status: str
    reason: str | None


class MirrorState(NamedTuple):
    mark: int
    epoch: str | None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StatusCache:
    """The status mirror; every method raises ``redis.RedisError`` when Redis is down."""

    def __init__(self, client: redis.Redis, prefix: str = "bl:") -> None:
        self.client, self.prefix = client, prefix
        self._put = client.register_script(_PUT)
        self._reset = client.register_script(_RESET)
        self.mark_key, self.epoch_key = f"{prefix}status:mark", f"{prefix}status:epoch"

    def _key(self, address: str) -> str:
        return f"{self.prefix}status:{address}"

    def put(self, rows: Sequence[tuple[str, Mirrored]], *, expected: int = 0, new: int = -1,
            epoch: str = "") -> int:
        """Store ``(address, entry)`` rows (newer-only) and, with ``new >= 0``, move the mark
        from ``expected`` to ``new`` if it is there under ``epoch``. Returns the mark."""
        mark = expected
        chunks = [rows[i:i + 500] for i in range(0, len(rows), 500)] or [[]]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            args: list[str | int] = [expected, new if last else -1, epoch]
            for _, entry in chunk:
                args += [entry.position,
                         f"{int(entry.sendable)} {entry.status} {entry.reason or ''}"]
            mark = int(self._put(keys=[self.mark_key, self.epoch_key,
                                       *(self._key(address) for address, _ in chunk)],
                                 args=args))
        return mark

    def get_many(self, addresses: Sequence[str]) -> tuple[dict[str, Known], MirrorState]:
        """What a check needs of those addresses that have an entry, with the mark and the
        epoch, in one ``MGET`` (entries split as bytes: no JSON, no per-entry object but the
        answer)."""
        prefix = f"{self.prefix}status:"
        values = self.client.mget([*(prefix + a for a in addresses), self.mark_key,
                                   self.epoch_key])
        state = MirrorState(int(values[-2] or 0),
                            _text(values[-1]) if values[-1] is not None else None)
        found: dict[str, Known] = {}
        for address, value in zip(addresses, values, strict=False):
            if value is not None:
                _, sendable, status, reason = (
                    value if isinstance(value, bytes) else value.encode()).split(b" ", 3)
                found[address] = Known(status.decode(), sendable == b"1",
                                       reason.decode() or None)
        return found, state

    def state(self) -> MirrorState:
        mark, epoch = self.client.mget([self.mark_key, self.epoch_key])
        return MirrorState(int(mark or 0), _text(epoch) if epoch is not None else None)

    def reset(self, epoch: str) -> None:
        """Start the mirror over under ``epoch`` (mark 0: nothing trusted until synced)."""
        self._reset(keys=[self.mark_key, self.epoch_key], args=[epoch])

    def forget(self, address: str) -> None:
        self.client.delete(self._key(address))


class MessageMapCache:
    """SES message id -> recipients, profiles and sender, expiring after ``ttl_seconds``."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, prefix: str = "bl:") -> None:
        self.client, self.ttl, self.prefix = client, ttl_seconds, prefix

    def _key(self, message_id: str) -> str:
        return f"{self.prefix}msg:{message_id}"

    def remember(self, sends: Sequence[tuple[str, str, str | None, str | None]]) -> None:
        """Add ``(message_id, address, profile_id, sender)`` entries (a hash per message)."""
        pipe = self.client.pipeline(transaction=False)
        for message_id, address, profile_id, sender in sends:
            value = json.dumps({"profile_id": profile_id, "sender": sender})
            pipe.hset(self._key(message_id), address, value)
            pipe.expire(self._key(message_id), self.ttl)
        pipe.execute()

    def lookup(self, message_id: str) -> list[tuple[str, str | None, str | None]] | None:
        """``[(address, profile_id, sender)]``, or ``None`` when Redis does not know it."""
        entries = self.client.hgetall(self._key(message_id))
        if not entries:
            return None
        result = []
        for address, value in sorted(entries.items()):
            data = json.loads(value)
            name = address.decode() if isinstance(address, bytes) else str(address)
            result.append((name, data["profile_id"], data["sender"]))
        return result

    def lookup_many(self, message_ids: Collection[str]
                    ) -> dict[str, list[tuple[str, str | None, str | None]]]:
        """``lookup`` for many messages in one round trip (the known ones only)."""
        ordered = list(message_ids)
        pipe = self.client.pipeline(transaction=False)
        for message_id in ordered:
            pipe.hgetall(self._key(message_id))
        found = {}
        for message_id, entries in zip(ordered, pipe.execute(), strict=True):
            if entries:
                found[message_id] = [
                    (address.decode() if isinstance(address, bytes) else str(address),
                     *_profile_sender(value)) for address, value in sorted(entries.items())]
        return found

    def forget(self, message_ids: Sequence[str]) -> None:
        self.client.delete(*[self._key(m) for m in message_ids])

    def ttl_of(self, message_id: str) -> int:
        return int(self.client.ttl(self._key(message_id)))


def _profile_sender(value: bytes | str) -> tuple[str | None, str | None]:
    data = json.loads(value)
    return data["profile_id"], data["sender"]
