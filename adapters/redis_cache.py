"""Redis in front of the SQL views: a status mirror and the message map, both optional.

The status mirror holds one JSON row per address under ``{prefix}status:{address}``, each
stamped with the view position it reflects; a Lua script only ever replaces a row with a
newer one, so writers racing from several processes cannot move a row backwards. Readers
treat a miss as "ask SQL" — never as "ok" — so an empty, restarted or evicted Redis can make
checks slower but never lets a blocked address through.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis

# Values are "<position> <json>": one MGET reads a whole batch, and the script compares
# the leading position before it overwrites.
_PUT_NEWER = """
for i, key in ipairs(KEYS) do
  local position = tonumber(ARGV[2 * i - 1])
  local current = redis.call('GET', key)
  if not current or tonumber(string.match(current, '^%d+')) <= position then
    redis.call('SET', key, ARGV[2 * i - 1] .. ' ' .. ARGV[2 * i])
  end
end
return #KEYS
"""
_RAISE_MARK = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StatusCache:
    """The status mirror; every method raises ``redis.RedisError`` when Redis is down."""

    def __init__(self, client: redis.Redis, prefix: str = "bl:") -> None:
        self.client, self.prefix = client, prefix
        self._put = client.register_script(_PUT_NEWER)
        self._raise_mark = client.register_script(_RAISE_MARK)

    def _key(self, address: str) -> str:
        return f"{self.prefix}status:{address}"

    def put(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Store ``(position, status dict)`` rows, keeping whichever is newer per address."""
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            args: list[Any] = []
            for position, row in chunk:
                args += [position, json.dumps(row, separators=(",", ":"))]
            self._put(keys=[self._key(row["address"]) for _, row in chunk], args=args)

    def get_many(self, addresses: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The cached rows of those addresses that have one, in one MGET."""
        if not addresses:
            return {}
        values = self.client.mget([self._key(a) for a in addresses])
        return {address: json.loads(_text(value).split(" ", 1)[1])
                for address, value in zip(addresses, values, strict=True) if value is not None}

    def synced(self) -> int:
        """The view position up to which every changed row has been written."""
        return int(self.client.get(f"{self.prefix}status:synced") or 0)

    def mark_synced(self, position: int) -> int:
        return int(self._raise_mark(keys=[f"{self.prefix}status:synced"], args=[position]))

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

    def forget(self, message_ids: Sequence[str]) -> None:
        self.client.delete(*[self._key(m) for m in message_ids])

    def ttl_of(self, message_id: str) -> int:
        return int(self.client.ttl(self._key(message_id)))
