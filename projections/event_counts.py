"""``event_counts``: how many events of each type the ledger holds (SPEC §4 names).

The smallest useful view, and the model of one that needs only the event type: its rebuild
(``load``) reads types straight from the stored rows and never decrypts or decodes an
event. Redacted events count under their own type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from adapters.sql import Cursor
from domain.redaction import event_type
from projections.base import Positioned
from projections.bulk import LogEvent
from projections.tables import LIVE, Names


class EventCountsView:
    name = "event_counts"
    tables = ("event_counts",)
    bulk_reads_data = False

    def __init__(self, names: Names = LIVE) -> None:
        self.table = names("event_counts")

    def shadow(self, names: Names) -> EventCountsView:
        return EventCountsView(names)

    def create(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (type TEXT PRIMARY KEY, "
                    "n BIGINT NOT NULL)")

    def clear(self, cur: Cursor) -> None:
        cur.execute(f"DELETE FROM {self.table}")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> None:
        self._add(cur, (event_type(e) for _, e in events))

    def load(self, cur: Cursor, events: Sequence[LogEvent]) -> None:
        self._add(cur, (e.type for e in events))

    def _add(self, cur: Cursor, types: Iterable[str]) -> None:
        for kind, n in sorted(Counter(types).items()):
            cur.execute(f"INSERT INTO {self.table} (type, n) VALUES (?, ?) ON CONFLICT (type) "
                        f"DO UPDATE SET n = {self.table}.n + excluded.n", (kind, n))

    def after_commit(self, changes: Any) -> None:
        pass
