"""The non-ok address list: newest status change first, with opaque cursor pagination.

The cursor is the ``(changed_at, address_id)`` of the last row of a page, so a page never
repeats or skips a row while the list keeps changing. The indexes behind it live with the
table in ``projections/email_status.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adapters.sql import Database
from domain.errors import LedgerError
from domain.policy import STATUSES
from projections.queries import STATUS_COLUMNS, AddressStatus, status_dict

MAX_LIMIT = 500


class ListedAddress(AddressStatus):
    # A row of the address list: the status shape and when the status last changed.
    changed_at: str | None


class InvalidListQuery(LedgerError):
    """A list parameter that cannot be used (a cursor not from us, an unknown status)."""

    status, code = 400, "invalid_query"


@dataclass(frozen=True)
class ListQuery:
    """Which rows: one status (``None`` = every non-ok status) and an address substring."""

    status: str | None = None
    q: str = ""

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise InvalidListQuery(f"status must be one of {', '.join(STATUSES)}")


def encode_cursor(changed_at: str, address_id: str) -> str:
    raw = json.dumps([changed_at, address_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        changed_at, key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidListQuery("cursor is not one this API returned") from None
    if not isinstance(changed_at, str) or not isinstance(key, str):
        raise InvalidListQuery("cursor is not one this API returned")
    return changed_at, key


def _like(q: str) -> str:
    escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AddressList:
    """Pages of ``email_status`` rows in the SPEC §5 status shape, plus ``changed_at``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, query: ListQuery, cursor: str | None = None,
             limit: int = 50) -> tuple[list[ListedAddress], str | None]:
        """One page and the cursor of the next (``None`` on the last page)."""
        limit = max(1, min(limit, MAX_LIMIT))
        where, params = self._where(query, cursor)
        with self.db.read() as cur:
            cur.execute(f"SELECT changed_at, address_id, {','.join(STATUS_COLUMNS)} "
                        f"FROM email_status WHERE {where} "
                        "ORDER BY changed_at DESC, address_id DESC LIMIT ?", (*params, limit + 1))
            rows = cur.fetchall()
        page: list[ListedAddress] = [{**status_dict(row[2:]), "changed_at": row[0]}
                                     for row in rows[:limit]]
        more = len(rows) > limit
        return page, encode_cursor(rows[limit - 1][0], rows[limit - 1][1]) if more else None

    def every(self, query: ListQuery, batch: int = MAX_LIMIT) -> Iterator[ListedAddress]:
        """Every row of the query, page by page (the CSV export)."""
        cursor: str | None = None
        while True:
            rows, cursor = self.page(query, cursor, batch)
            yield from rows
            if cursor is None:
                return

    @staticmethod
    def _where(query: ListQuery, cursor: str | None) -> tuple[str, list[Any]]:
        clauses, params = (["status <> 'ok'"], []) if query.status is None else (
            ["status = ?"], [query.status])
        if query.q.strip():
            clauses.append("address LIKE ? ESCAPE '\\'")
            params.append(_like(query.q))
        if cursor is not None:
            changed_at, key = decode_cursor(cursor)
            clauses.append("(changed_at, address_id) < (?, ?)")  # row values: an index range
            params.extend([changed_at, key])
        return " AND ".join(clauses), params
