"""``profiles``: each profile's current address (for the banner and email changes).

A profile moves with ``EmailChangedFrom`` (recorded on the new address). A send recorded
with a profile id names the profile's address only while the profile has none yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.sql import Cursor
from projections.base import Positioned, iso

CREATE = (
    "CREATE TABLE IF NOT EXISTS profiles ("
    "profile_id TEXT PRIMARY KEY, address_id TEXT NOT NULL, updated_at TEXT NOT NULL, "
    "position BIGINT NOT NULL)"
)


class ProfilesView:
    name = "profiles"

    def create(self, cur: Cursor) -> None:
        cur.execute(CREATE)

    def clear(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM profiles")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> None:
        for position, event in events:
            kind = type(event).__name__
            if kind == "EmailChangedFrom":
                self._upsert(cur, event, position, replace=True)
            elif kind == "MessageSent" and event.profile_id:
                self._upsert(cur, event, position, replace=False)
            elif kind == "Erased":
                cur.execute("DELETE FROM profiles WHERE address_id = ?",
                            (str(event.originator_id),))

    @staticmethod
    def _upsert(cur: Cursor, event: Any, position: int, *, replace: bool) -> None:
        conflict = ("DO UPDATE SET address_id = excluded.address_id, "
                    "updated_at = excluded.updated_at, position = excluded.position"
                    if replace else "DO NOTHING")
        cur.execute(
            "INSERT INTO profiles (profile_id, address_id, updated_at, position) "
            f"VALUES (?, ?, ?, ?) ON CONFLICT (profile_id) {conflict}",
            (event.profile_id, str(event.originator_id), iso(event.timestamp), position),
        )

    def after_commit(self, changes: Any) -> None:
        pass
