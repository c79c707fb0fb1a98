"""Reads of the views, as plain dicts in the shapes of SPEC §5."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from adapters.redis_cache import Mirrored
from adapters.sql import Database
from domain.addresses import address_id
from domain.policy import COUNT_NAMES, OK, Known
from domain.redaction import erased_hash
from projections.message_map import MappedSend

PROJECTION_ERROR = "projection_error"

STATUS_COLUMNS = ("address", "status", "sendable", "reason", "diagnostic", "since",
                   "last_event_at", *COUNT_NAMES)


def unknown_status(address: str) -> dict[str, Any]:
    """An address never seen is ``ok`` and sendable."""
    return {"address": address, "status": OK, "sendable": True, "reason": None,
            "diagnostic": None, "since": None, "counts": dict.fromkeys(COUNT_NAMES, 0),
            "last_event_at": None}


def status_dict(row: Sequence[Any]) -> dict[str, Any]:
    data = dict(zip(STATUS_COLUMNS, row, strict=True))
    data["sendable"] = bool(data["sendable"])
    data["counts"] = {name: data.pop(name) for name in COUNT_NAMES}
    return data


class StatusReader:
    """Status and profile reads from SQL (the Redis cache sits in front of ``statuses``).

    An address not in ``email_status`` may have been erased while blocked: with the erasure
    key, its keyed hash is looked up in ``erased_blocks`` (one query per batch)."""

    def __init__(self, db: Database, erasure_key: bytes | None = None) -> None:
        self.db, self.erasure_key = db, erasure_key

    def status(self, address: str) -> dict[str, Any]:
        with self.db.read() as cur:
            cur.execute(f"SELECT {','.join(STATUS_COLUMNS)} FROM email_status "
                        "WHERE address_id = ?", (str(address_id(address)),))
            row = cur.fetchone()
        if row:
            return status_dict(row)
        if self.quarantined([address]):
            return {**unknown_status(address), "sendable": False, "reason": PROJECTION_ERROR}
        blocks = self.erased_blocks([address])
        if address not in blocks:
            return unknown_status(address)
        status, erased_at = blocks[address]
        return {**unknown_status(address), "status": status, "sendable": False,
                "reason": "erased", "since": erased_at}

    def erased_blocks(self, addresses: Sequence[str]) -> dict[str, tuple[str, str]]:
        """address -> (status, erased_at) for those erased while blocked."""
        if self.erasure_key is None or not addresses:
            return {}
        key = self.erasure_key
        hashes = {erased_hash(key, a): a for a in addresses}
        ordered, found = sorted(hashes), {}
        with self.db.read() as cur:
            if self.db.dialect == "postgresql":
                cur.execute("SELECT address_hash, status, erased_at FROM erased_blocks "
                            "WHERE address_hash = ANY(?)", (ordered,))
                return {hashes[h]: (s, at) for h, s, at in cur.fetchall()}
            for i in range(0, len(ordered), 900):
                chunk = ordered[i:i + 900]
                cur.execute("SELECT address_hash, status, erased_at FROM erased_blocks "
                            f"WHERE address_hash IN ({','.join('?' * len(chunk))})", chunk)
                found.update({hashes[h]: (s, at) for h, s, at in cur.fetchall()})
        return found

    def statuses(self, addresses: Sequence[str]) -> dict[str, Known]:
        """address -> ``Known`` for the known ones (erased blocks and quarantined addresses
        with no status row included)."""
        found = self._statuses(addresses)
        missing = [a for a in dict.fromkeys(addresses) if a not in found]
        found.update((a, Known(s, False, "erased"))
                     for a, (s, _) in self.erased_blocks(missing).items())
        missing = [a for a in missing if a not in found]
        found.update((a, Known(OK, False, PROJECTION_ERROR)) for a in self.quarantined(missing))
        return found

    def quarantined(self, addresses: Sequence[str]) -> set[str]:
        """Those of these addresses a view could not apply (``projections.quarantine``)."""
        found: set[str] = set()
        for i in range(0, len(addresses), 900):
            chunk = list(addresses[i:i + 900])
            with self.db.read() as cur:
                cur.execute("SELECT address FROM projection_quarantine WHERE address IN "
                            f"({','.join('?' * len(chunk))})", chunk)
                found.update(row[0] for row in cur.fetchall())
        return found

    def _statuses(self, addresses: Sequence[str]) -> dict[str, Known]:
        unique = sorted(set(addresses))
        with self.db.read() as cur:
            if self.db.dialect == "postgresql":
                cur.execute("SELECT address, status, sendable, reason FROM email_status "
                            "WHERE address = ANY(?)", (unique,))
                return {a: Known(s, bool(ok), r) for a, s, ok, r in cur.fetchall()}
            found: dict[str, Known] = {}
            for i in range(0, len(unique), 900):
                chunk = unique[i:i + 900]
                cur.execute("SELECT address, status, sendable, reason FROM email_status "
                            f"WHERE address IN ({','.join('?' * len(chunk))})", chunk)
                found.update((a, Known(s, bool(ok), r)) for a, s, ok, r in cur.fetchall())
            return found

    def rows_since(self, position: int, limit: int) -> list[tuple[str, Mirrored]]:
        """``(address, mirror entry)`` of rows changed after ``position``, oldest first."""
        with self.db.read() as cur:
            cur.execute("SELECT address, position, sendable, status, reason FROM email_status "
                        "WHERE position > ? ORDER BY position LIMIT ?", (position, limit))
            return [(row[0], Mirrored(int(row[1]), bool(row[2]), row[3], row[4]))
                    for row in cur.fetchall()]

    def profile(self, profile_id: str) -> dict[str, Any] | None:
        with self.db.read() as cur:
            cur.execute("SELECT p.profile_id, s.address, p.updated_at FROM profiles p "
                        "JOIN email_status s ON s.address_id = p.address_id "
                        "WHERE p.profile_id = ?", (profile_id,))
            row = cur.fetchone()
        if row is None:
            return None
        return {"profile_id": row[0], "address": row[1], "updated_at": row[2]}

    def sends(self, message_id: str) -> list[MappedSend]:
        """The recipients recorded for an SES message id (empty when unknown)."""
        return self.sends_many([message_id])

    def sends_many(self, message_ids: Collection[str]) -> list[MappedSend]:
        """The recipients recorded for these SES message ids (none for unknown ids)."""
        ordered = sorted(set(message_ids))
        found: list[MappedSend] = []
        for i in range(0, len(ordered), 500):
            chunk = ordered[i:i + 500]
            with self.db.read() as cur:
                cur.execute("SELECT m.message_id, s.address, m.profile_id, m.sender "
                            "FROM message_map m JOIN email_status s "
                            "ON s.address_id = m.address_id WHERE m.message_id IN "
                            f"({','.join('?' * len(chunk))}) ORDER BY m.message_id, s.address",
                            chunk)
                found += [MappedSend(*row) for row in cur.fetchall()]
        return found
