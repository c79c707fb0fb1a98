"""Crypto-shredding: every address event is sealed with a data key of its own address.

Deleting an address's key (``address_keys``) makes its events unreadable everywhere — in
the event store, in its backups and in every replica — without rewriting the append-only
log. The stored state of a ``domain.address`` event becomes::

    0x01 | header length (4 bytes) | header | nonce (12) | AES-GCM(state)

with the event's originator id and the header as associated data (a sealed state cannot be
moved to another aggregate). The header keeps what is not personal: when the event happened
and was recorded, so a redacted event keeps its place in time. ``Erased`` stays plain (it
names no one); events stored before this module existed are plain JSON and still read.
In ``EmailChangedTo`` / ``EmailChangedFrom`` the *other* address is sealed again with the
other address's key, so erasing A also blanks A inside B's history.

Keys are cached in memory for ``KEY_TTL_S`` (30 s) and dropped at once by the process that
erases: another process may go on reading an erased address's events for up to that long.
Missing keys are never cached, so a key created elsewhere is found on the next read.

The write path does not use the cache: it reads and creates the keys of a batch inside its
own transaction (``load_in``, ``create_in``) under the writers' lock, and an erasure deletes
the key in the transaction that records ``Erased`` (``delete_in``). While a batch runs, the
mapper uses exactly those keys (``scope``), so what it seals and what commits agree.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from adapters.sql import Cursor, Database
from domain.address import Address
from domain.addresses import address_id
from domain.redaction import ERASED, redacted

VERSION = b"\x01"
KEY_TTL_S = 30.0
# Stored rows are matched by topic; the topics come from the event classes.
_ADDRESS_TOPIC = get_topic(Address) + "."
_PLAIN = frozenset({get_topic(Address.Erased)})
_OTHER = {get_topic(Address.EmailChangedTo): "new_address",
          get_topic(Address.EmailChangedFrom): "old_address"}
_SEALED = "sealed:1:"


class SqlKeyStore:
    """``address_keys``: one random 256-bit data key per address id, beside the events."""

    def __init__(self, db: Database, ttl_s: float = KEY_TTL_S,
                 clock: Callable[[], float] = time.monotonic, size: int = 50_000) -> None:
        self.db, self.ttl_s, self.clock, self.size = db, ttl_s, clock, size
        # Bounded (least recently loaded goes first), so a long replay stays flat in memory.
        self._cache: OrderedDict[str, tuple[bytes, float, AESGCM]] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()

    def create_table(self) -> None:
        blob = "BYTEA" if self.db.dialect == "postgresql" else "BLOB"
        with self.db.write() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS address_keys ("
                        f"address_id TEXT PRIMARY KEY, data_key {blob} NOT NULL)")

    # -- inside a write transaction (``projections.pipeline``) ---------------------------------

    def load_in(self, cur: Cursor, ids: Collection[UUID | str]) -> dict[str, bytes]:
        """The keys of these addresses that exist, read in the caller's transaction."""
        wanted = sorted({str(i) for i in ids})
        found: dict[str, bytes] = {}
        if cur.dialect == "postgresql" and wanted:
            cur.execute("SELECT address_id, data_key FROM address_keys "
                        "WHERE address_id = ANY(?)", (wanted,))
            return {key_id: bytes(key) for key_id, key in cur.fetchall()}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            cur.execute("SELECT address_id, data_key FROM address_keys WHERE address_id "
                        f"IN ({','.join('?' * len(chunk))})", chunk)
            found.update((key_id, bytes(key)) for key_id, key in cur.fetchall())
        return found

    def create_in(self, cur: Cursor, ids: Collection[UUID | str]) -> dict[str, bytes]:
        """New random keys for addresses that have none (the caller holds the writers' lock,
        so nobody creates the same ones meanwhile)."""
        created = {str(i): AESGCM.generate_key(256) for i in ids}
        if not created:
            return {}
        rows = sorted(created.items())
        if cur.dialect == "postgresql":
            cur.execute("INSERT INTO address_keys (address_id, data_key) "
                        "SELECT * FROM unnest(?::text[], ?::bytea[])",
                        ([r[0] for r in rows], [r[1] for r in rows]))
        else:
            cur.executemany("INSERT INTO address_keys (address_id, data_key) VALUES (?, ?)",
                            rows)
        return created

    def delete_in(self, cur: Cursor, originator_id: UUID) -> None:
        """Shred inside the transaction that records ``Erased``."""
        cur.execute("DELETE FROM address_keys WHERE address_id = ?", (str(originator_id),))

    @contextmanager
    def scope(self) -> Iterator[None]:
        """While a batch runs in this thread, seal and open with exactly the keys it read or
        created (``add_to_scope``), never with the cache."""
        self._local.scope = {}
        try:
            yield
        finally:
            self._local.scope = None

    def in_scope(self) -> bool:
        return getattr(self._local, "scope", None) is not None

    def add_to_scope(self, keys: Mapping[str, bytes]) -> None:
        scope = getattr(self._local, "scope", None)
        assert scope is not None, "add_to_scope outside a scope"
        scope.update((key_id, (key, AESGCM(key))) for key_id, key in keys.items())

    def remember(self, keys: Mapping[str, bytes]) -> None:
        """After a commit: cache the keys the batch read or created."""
        expires = self.clock() + self.ttl_s
        with self._lock:
            for key_id, key in keys.items():
                self._cache[key_id] = (key, expires, AESGCM(key))
                self._cache.move_to_end(key_id)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)

    def forget(self, originator_id: UUID | str) -> None:
        """After an erasure commits: this process stops using the key at once."""
        with self._lock:
            self._cache.pop(str(originator_id), None)

    # -- outside the write path -------------------------------------------------------------

    def ensure(self, ids: Collection[UUID]) -> None:
        """Create the missing keys of all these addresses: one insert, one select."""
        wanted = self._stale(ids)
        if not wanted:
            return
        with self.db.write() as cur:
            cur.executemany("INSERT INTO address_keys (address_id, data_key) VALUES (?, ?) "
                            "ON CONFLICT (address_id) DO NOTHING",
                            [(key_id, AESGCM.generate_key(256)) for key_id in wanted])
        self.prefetch(wanted)

    def prefetch(self, ids: Collection[UUID | str]) -> None:
        """Load the keys of many addresses in one query (the missing stay missing)."""
        wanted = self._stale(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            with self.db.read() as cur:
                cur.execute("SELECT address_id, data_key FROM address_keys WHERE address_id "
                            f"IN ({','.join('?' * len(chunk))})", chunk)
                rows = cur.fetchall()
            with self._lock:
                for key_id in chunk:  # a key deleted elsewhere must not outlive its TTL here
                    self._cache.pop(key_id, None)
                for key_id, data_key in rows:
                    key = bytes(data_key)
                    self._cache[key_id] = (key, self.clock() + self.ttl_s, AESGCM(key))
                    self._cache.move_to_end(key_id)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)

    def key(self, originator_id: UUID | str) -> bytes | None:
        """The data key, or ``None`` once the address is erased."""
        cached = self._entry(originator_id)
        return cached[0] if cached is not None else None

    def cipher(self, originator_id: UUID | str) -> AESGCM | None:
        """The address's AES-GCM cipher (built once per cached key), or ``None``."""
        cached = self._entry(originator_id)
        return cached[2] if cached is not None else None

    def _entry(self, originator_id: UUID | str) -> tuple[bytes, float, AESGCM] | None:
        key_id = str(originator_id)
        scope: dict[str, tuple[bytes, AESGCM]] | None = getattr(self._local, "scope", None)
        if scope is not None:  # inside a batch: its own keys, nothing else
            found = scope.get(key_id)
            return (found[0], 0.0, found[1]) if found is not None else None
        cached = self._cache.get(key_id)
        if cached is None or cached[1] < self.clock():
            self.prefetch([key_id])
            cached = self._cache.get(key_id)
        return cached

    def delete(self, originator_id: UUID) -> None:
        """Shred: without this row nothing sealed for the address can be read again."""
        with self._lock:
            self._cache.pop(str(originator_id), None)
        with self.db.write() as cur:
            cur.execute("DELETE FROM address_keys WHERE address_id = ?", (str(originator_id),))

    def _stale(self, ids: Collection[UUID | str]) -> list[str]:
        """Those ids whose key is not cached or cached too long ago."""
        now, cache = self.clock(), self._cache
        return sorted({key_id for key_id in map(str, ids)
                       if (entry := cache.get(key_id)) is None or entry[1] < now})


class ShreddingMapper(Mapper[UUID]):
    """The library's mapper, sealing address events with their address's data key."""

    def __init__(self, transcoder: Transcoder, keys: SqlKeyStore) -> None:
        super().__init__(transcoder)
        self.keys = keys

    def prepare(self, stored_events: Sequence[StoredEvent]) -> None:
        """Load the keys of a page of sealed events in one query (``projections.base``)."""
        self.keys.prefetch({s.originator_id for s in stored_events
                            if bytes(s.state[:1]) == VERSION})

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(type(domain_event))
        if not topic.startswith(_ADDRESS_TOPIC) or topic in _PLAIN:
            return super().to_stored_event(domain_event)
        stored = super().to_stored_event(self._seal_other(topic, domain_event))
        header = self.transcoder.encode({
            "timestamp": getattr(domain_event, "timestamp", None),
            "occurred_at": getattr(domain_event, "occurred_at", None)})
        nonce = os.urandom(12)
        sealed = self._cipher(stored.originator_id).encrypt(
            nonce, stored.state, _aad(stored.originator_id, header))
        state = VERSION + len(header).to_bytes(4, "big") + header + nonce + sealed
        return StoredEvent(stored.originator_id, stored.originator_version, topic, state)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        state = bytes(stored_event.state)
        if not state.startswith(VERSION):
            return super().to_domain_event(stored_event)
        header, plain = unseal(state, stored_event.originator_id,
                               self.keys.cipher(stored_event.originator_id))
        if plain is None:
            return self._redacted(stored_event, header)
        event = super().to_domain_event(StoredEvent(
            stored_event.originator_id, stored_event.originator_version, stored_event.topic,
            plain))
        return self._unseal_other(stored_event.topic, event)

    def _redacted(self, stored: StoredEvent, header: bytes) -> Any:
        times = self.transcoder.decode(header)
        originator = stored.originator_id
        return redacted(originator if isinstance(originator, UUID) else UUID(str(originator)),
                        stored.originator_version, stored.topic.rsplit(".", 1)[1],
                        times["timestamp"], times["occurred_at"])

    def _cipher(self, originator_id: UUID | str) -> AESGCM:
        cipher = self.keys.cipher(originator_id)
        if cipher is None and not self.keys.in_scope():
            # Outside the write pipeline (tools, tests): create the key on its own.
            self.keys.ensure([UUID(str(originator_id))])
            cipher = self.keys.cipher(originator_id)
        if cipher is None:
            raise LookupError(f"no data key for {originator_id} in this batch")
        return cipher

    def _seal_other(self, topic: str, event: Any) -> Any:
        field = _OTHER.get(topic)
        other = getattr(event, field, None) if field else None
        if field is None or other is None:
            return event
        other_id = address_id(other)
        nonce = os.urandom(12)
        sealed = self._cipher(other_id).encrypt(
            nonce, other.encode(), _aad(other_id, str(event.originator_id).encode()))
        copy = object.__new__(type(event))
        object.__setattr__(copy, "__dict__", {
            **vars(event),
            field: f"{_SEALED}{other_id}:{base64.b64encode(nonce + sealed).decode()}"})
        return copy

    def _unseal_other(self, topic: str, event: Any) -> Any:
        field = _OTHER.get(topic)
        value = getattr(event, field, None) if field else None
        if field is None or not isinstance(value, str) or not value.startswith(_SEALED):
            return event
        vars(event)[field] = open_other(value, event.originator_id, self.keys.cipher)
        return event


def sealed_other_id(value: Any) -> str | None:
    """The address id whose key seals this email-change field, if it is sealed."""
    if not isinstance(value, str) or not value.startswith(_SEALED):
        return None
    return value[len(_SEALED):].partition(":")[0]


def open_other(value: str, originator_id: UUID | str,
               cipher: Callable[[str], AESGCM | None]) -> str:
    """The other address of an email change, or ``[erased]`` once its key is shredded."""
    other_id, _, data = value.removeprefix(_SEALED).partition(":")
    raw, key = base64.b64decode(data), cipher(other_id)
    try:
        if key is None:
            raise InvalidTag
        return key.decrypt(raw[:12], raw[12:], _aad(other_id, str(originator_id).encode())
                           ).decode()
    except InvalidTag:
        return ERASED


def unseal(state: bytes, originator_id: UUID | str,
           cipher: AESGCM | None) -> tuple[bytes, bytes | None]:
    """A sealed state's plain header (the times) and its plain state — ``None`` when it
    cannot be opened: no key (shredded) or not this aggregate's."""
    size = int.from_bytes(state[1:5], "big")
    header, nonce, sealed = state[5:5 + size], state[5 + size:17 + size], state[17 + size:]
    if cipher is None:
        return header, None
    try:
        return header, cipher.decrypt(nonce, sealed, _aad(originator_id, header))
    except InvalidTag:
        return header, None


def _aad(originator_id: UUID | str, header: bytes) -> bytes:
    return VERSION + str(originator_id).encode() + b"|" + header


def secure_delete(ledger: Any) -> None:
    """``PRAGMA secure_delete=ON`` on the event store's SQLite connections too (freed pages
    are zeroed), by wrapping the library pool's connection factory (no-op on PostgreSQL)."""
    pool = getattr(getattr(getattr(ledger, "factory", None), "datastore", None), "pool", None)
    create = getattr(pool, "_create_connection", None)
    if create is None:
        return

    def create_secure() -> Any:
        connection = create()
        raw: sqlite3.Connection = connection._sqlite_conn
        raw.execute("PRAGMA secure_delete=ON")
        return connection

    pool._create_connection = create_secure  # type: ignore[union-attr]
    for connection in list(getattr(pool, "_pool", ())):
        connection._sqlite_conn.execute("PRAGMA secure_delete=ON")
