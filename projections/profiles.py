"""``profiles``: each profile's current address (for the banner and email changes).

A profile moves with ``EmailChangedFrom`` (recorded on the new address) and leaves the old
address with ``EmailChangedTo``. A send recorded with a profile id names the profile's
address only while the profile has none yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.sql import Cursor
from domain.address import Address
from projections.base import Positioned, insert_rows, iso
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
        run: list[tuple[bool, Positioned]] = []  # (moves the profile?, event), in log order
        for position, event in events:
            if isinstance(event, Address.EmailChangedFrom):
                run.append((True, (position, event)))
            elif isinstance(event, Address.MessageSent) and event.profile_id:
                run.append((False, (position, event)))
            elif isinstance(event, Address.EmailChangedTo):
                # The profile left this address. Usually its ``EmailChangedFrom`` moves it on
                # at once; once the new address is erased, that event is unreadable and a
                # rebuild must not leave the profile at the address it left.
                self._upsert(cur, run)
                run = []
                cur.execute(f"DELETE FROM {self.table} WHERE profile_id = ? "
                            "AND address_id = ?", (event.profile_id, str(event.originator_id)))
            elif isinstance(event, Address.Erased):
                self._upsert(cur, run)
                run = []
                cur.execute(f"DELETE FROM {self.table} WHERE address_id = ?",
                            (str(event.originator_id),))
        self._upsert(cur, run)

    def _upsert(self, cur: Cursor, run: list[tuple[bool, Positioned]]) -> None:
        """Consecutive moves and first sends in one statement each; a send names a profile's
        address only while it has none, a move always (the last one wins)."""
        firsts: dict[str, tuple[Any, ...]] = {}
        moves: dict[str, tuple[Any, ...]] = {}
        for moves_profile, (position, event) in run:
            row = (event.profile_id, str(event.originator_id), iso(event.timestamp), position)
            if moves_profile:
                moves[event.profile_id] = row
            elif event.profile_id not in moves:
                firsts.setdefault(event.profile_id, row)
        head = f"INSERT INTO {self.table} (profile_id, address_id, updated_at, position)"
        types = ("text", "text", "text", "bigint")
        insert_rows(cur, head, list(firsts.values()), "ON CONFLICT (profile_id) DO NOTHING",
                    types)
        insert_rows(cur, head, list(moves.values()),
                    "ON CONFLICT (profile_id) DO UPDATE SET address_id = excluded.address_id, "
                    "updated_at = excluded.updated_at, position = excluded.position", types)

    def after_commit(self, changes: Any) -> None:
        pass
