"""``profiles``: each profile's current address (for the banner and email changes).

A profile moves with ``EmailChangedFrom`` (recorded on the new address) and leaves the old
address with ``EmailChangedTo``. A send recorded with a profile id names the profile's
address only while the profile has none yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.sql import Cursor
from projections.base import Positioned, iso
from projections.tables import LIVE, Names


class ProfilesView:
    name = "profiles"
    tables = ("profiles",)

    def __init__(self, names: Names = LIVE) -> None:
        self.table = names("profiles")

    def shadow(self, names: Names) -> ProfilesView:
        return ProfilesView(names)

    def create(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ("
                    "profile_id TEXT PRIMARY KEY, address_id TEXT NOT NULL, "
                    "updated_at TEXT NOT NULL, position BIGINT NOT NULL)")

    def clear(self, cur: Cursor) -> None:
        cur.execute(f"DELETE FROM {self.table}")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> None:
        for position, event in events:
            kind = type(event).__name__
            if kind == "EmailChangedFrom":
                self._upsert(cur, event, position, replace=True)
            elif kind == "EmailChangedTo":
                # The profile left this address. Usually its ``EmailChangedFrom`` moves it on
                # at once; once the new address is erased, that event is unreadable and a
                # rebuild must not leave the profile at the address it left.
                cur.execute(f"DELETE FROM {self.table} WHERE profile_id = ? "
                            "AND address_id = ?", (event.profile_id, str(event.originator_id)))
            elif kind == "MessageSent" and event.profile_id:
                self._upsert(cur, event, position, replace=False)
            elif kind == "Erased":
                cur.execute(f"DELETE FROM {self.table} WHERE address_id = ?",
                            (str(event.originator_id),))

    def _upsert(self, cur: Cursor, event: Any, position: int, *, replace: bool) -> None:
        conflict = ("DO UPDATE SET address_id = excluded.address_id, "
                    "updated_at = excluded.updated_at, position = excluded.position"
                    if replace else "DO NOTHING")
        cur.execute(
            f"INSERT INTO {self.table} (profile_id, address_id, updated_at, position) "
            f"VALUES (?, ?, ?, ?) ON CONFLICT (profile_id) {conflict}",
            (event.profile_id, str(event.originator_id), iso(event.timestamp), position),
        )

    def after_commit(self, changes: Any) -> None:
        pass
