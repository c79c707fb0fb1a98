"""Rebuild one view from the first event into shadow tables, then swap them in.

The live tables keep answering while the shadow (``<table>__rebuild``) fills under its own
tracking row (``<view>__rebuild``), so an interrupted rebuild resumes where it stopped. A
view that can load whole histories (``projections.bulk``: ``email_status``, counts per type)
is filled first in one pass over a snapshot of the log, written with ``COPY``; then — and
for every other view from the first event — the remaining events go in the normal way,
many per transaction. The swap happens in one transaction that holds the live view's
tracking row: the last few events go into the shadow, the live tables are dropped, the
shadow is renamed, and the live tracking row moves to the shadow's position. Readers see
the old table or the new one, never an empty or half-built one (PostgreSQL: DDL is
transactional; SQLite: one ``BEGIN IMMEDIATE``, WAL readers keep their snapshot).

Each view names its tables (``tables``) and builds its shadow over other names
(``shadow(Names)``, ``projections.tables``). On SQLite, secondary indexes are built at the
swap (SQLite cannot rename an index); on PostgreSQL they are built with the shadow and
renamed at the swap, so the live table is locked only for the renames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.event_log import EventLog
from adapters.sql import Cursor, Database
from domain.ledger import Ledger
from projections.base import TRACKING_TABLE, View, decode
from projections.bulk import MARKS_TABLE, BulkLoad, BulkView
from projections.tables import Names

SUFFIX = "__rebuild"
Progress = Callable[[int, int], None]


class Rebuildable(View, Protocol):
    """A view that names its tables and can be built over others (its shadow)."""

    tables: Sequence[str]

    def shadow(self, names: Names) -> View: ...


class NotRebuildable(TypeError):
    """A view that does not name its tables cannot be rebuilt beside the live one."""


def rebuildable(view: View) -> Rebuildable:
    """The view, checked: it names its tables and builds its shadow (``projections.tables``),
    or a clear error says it cannot be rebuilt beside the live one."""
    if not getattr(view, "tables", None) or not callable(getattr(view, "shadow", None)):
        raise NotRebuildable(f"view {view.name!r} does not name its tables (`tables` and "
                             "`shadow(names)`): it cannot be rebuilt beside the live one")
    return view  # type: ignore[return-value]


@dataclass
class TableDiff:
    """Rows of one table found only in the live view or only in the rebuilt one."""

    table: str
    only_live: int
    only_rebuilt: int
    sample: list[Any] = field(default_factory=list)


@dataclass
class Outcome:
    """What a rebuild did: the position reached, whether it swapped, and any differences."""

    view: str
    position: int
    swapped: bool
    differences: list[TableDiff] = field(default_factory=list)


class Rebuild:
    """Rebuilds one view beside the live one; ``run`` resumes an interrupted rebuild.

    With ``log`` (the stored event rows), a view that offers ``load`` is first filled in
    one pass (``projections.bulk``), over ``workers`` processes where the view's fold can
    run elsewhere and the store is PostgreSQL (``projections.workers``)."""

    def __init__(self, ledger: Ledger, db: Database, view: View, batch_size: int = 5000,
                 log: EventLog | None = None, workers: int = 1) -> None:
        self.ledger, self.db, self.batch_size = ledger, db, batch_size
        self.view, self.tracking = rebuildable(view), view.name + SUFFIX
        self.tables = list(self.view.tables)
        self.shadow = self.view.shadow(Names(SUFFIX, indexes=db.dialect != "sqlite"))
        self.bulk = (BulkLoad(log, ledger.mapper, db, self.shadow, self.tracking, batch_size,
                              workers)
                     if log is not None and isinstance(self.shadow, BulkView) else None)

    # -- the shadow --------------------------------------------------------------------------

    def discard(self) -> None:
        """Drop the shadow tables and their tracking (start again from the first event)."""
        with self.db.write() as cur:
            for table in self.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
            cur.execute(TRACKING_TABLE)
            cur.execute(MARKS_TABLE)
            cur.execute("DELETE FROM projection_tracking WHERE name = ?", (self.tracking,))
            cur.execute("DELETE FROM projection_rebuilds WHERE name = ?", (self.tracking,))

    def prepare(self) -> int:
        """Create the shadow (if not there yet); returns how far it is: its position, or
        the events an unfinished first pass has loaded (0 for a fresh one)."""
        with self.db.write() as cur:
            cur.execute(TRACKING_TABLE)
            cur.execute(MARKS_TABLE)
            cur.execute("SELECT position FROM projection_tracking WHERE name = ?",
                        (self.tracking,))
            row = cur.fetchone()
            if row is not None:
                loaded = self.bulk.done_so_far(cur) if self.bulk is not None else None
                return loaded if loaded is not None else int(row[0])
            for table in self.tables:  # leftovers without tracking are not trustworthy
                cur.execute(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
            cur.execute("DELETE FROM projection_rebuilds WHERE name = ?", (self.tracking,))
            # A first pass loads faster without secondary indexes: they are built after it.
            first = (self.shadow if self.bulk is None
                     else self.view.shadow(Names(SUFFIX, indexes=False)))
            first.create(cur)
            cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, 0)",
                        (self.tracking,))
        return 0

    def _index(self) -> None:
        """The shadow's secondary indexes, after a first pass (PostgreSQL; on SQLite they
        are built at the swap)."""
        with self.db.write() as cur:
            self.shadow.create(cur)

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def fill(self, progress: Progress | None = None) -> int:
        """Apply every recorded event to the shadow, one batch per transaction."""
        total = self.head()
        while True:
            with self.db.write() as cur:
                position, more = self._batch(cur, upto=None)
            if progress is not None:
                progress(position, max(total, position))
            if not more:
                return position

    def _batch(self, cur: Cursor, upto: int | None) -> tuple[int, bool]:
        """One batch into the shadow inside ``cur``'s transaction: (position, maybe more)."""
        cur.execute(f"SELECT position FROM projection_tracking WHERE name = ?"
                    f"{self.db.for_update}", (self.tracking,))
        row = cur.fetchone()
        if row is None:
            raise RuntimeError(f"{self.view.name}: the rebuild's tracking row is gone "
                               "(another replay swapped it in); run replay again")
        position = int(row[0])
        if upto is not None and position >= upto:
            return position, False
        notifications = self.ledger.recorder.select_notifications(
            start=position + 1, limit=self.batch_size, stop=upto)
        if not notifications:
            return position, False
        events = decode(self.ledger, notifications)
        self.shadow.apply(cur, events)
        position = events[-1][0]
        cur.execute("UPDATE projection_tracking SET position = ? WHERE name = ?",
                    (position, self.tracking))
        return position, len(notifications) == self.batch_size

    def _finish(self, cur: Cursor, upto: int | None) -> int:
        position, more = self._batch(cur, upto)
        while more:
            position, more = self._batch(cur, upto)
        return position

    # -- the end: swap or compare ------------------------------------------------------------

    def _lock_live(self, cur: Cursor) -> int:
        cur.execute(f"SELECT position FROM projection_tracking WHERE name = ?"
                    f"{self.db.for_update}", (self.view.name,))
        row = cur.fetchone()
        return int(row[0]) if row else 0

    def swap(self) -> int:
        """Catch the shadow up to the log's head and put it in place of the live tables."""
        with self.db.write() as cur:
            if self.db.dialect == "postgresql":
                cur.execute("SET LOCAL lock_timeout = '10s'")
            self._lock_live(cur)
            position = self._finish(cur, upto=self.head())
            for table in self.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
                cur.execute(f"ALTER TABLE {table}{SUFFIX} RENAME TO {table}")
            self._restore_index_names(cur)
            cur.execute("UPDATE projection_tracking SET position = ? WHERE name = ?",
                        (position, self.view.name))
            cur.execute("DELETE FROM projection_tracking WHERE name = ?", (self.tracking,))
        return position

    def _restore_index_names(self, cur: Cursor) -> None:
        if self.db.dialect == "sqlite":
            self.view.create(cur)  # builds the secondary indexes under their own names
            return
        marks = ",".join("?" * len(self.tables))
        cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                    f"AND tablename IN ({marks}) AND indexname LIKE ?",
                    [*self.tables, f"%{SUFFIX}%"])
        for (name,) in cur.fetchall():
            cur.execute(f"ALTER INDEX {name} RENAME TO {name.replace(SUFFIX, '')}")

    def compare(self, live_catch_up: Callable[[], object]) -> tuple[int, list[TableDiff]]:
        """Bring live and shadow to the same position and list the rows that differ."""
        live_catch_up()
        with self.db.write() as cur:
            live = self._lock_live(cur)
            position = self._finish(cur, upto=live)
            if position != live:
                raise RuntimeError(f"{self.view.name}: live view at {live} is behind the "
                                   f"rebuild at {position}; run the live catch-up first")
            diffs = [d for table in self.tables if (d := self._diff(cur, table)).only_live
                     or d.only_rebuilt]
        return position, diffs

    def _diff(self, cur: Cursor, table: str) -> TableDiff:
        """Counts both ways, and up to five keys (first column) of differing rows."""
        columns = self._columns(cur, table)
        listed, shadow = ", ".join(columns), table + SUFFIX
        counts: list[int] = []
        sample: set[Any] = set()
        for first, second in ((table, shadow), (shadow, table)):
            differing = f"SELECT {listed} FROM {first} EXCEPT SELECT {listed} FROM {second}"
            cur.execute(f"SELECT COUNT(*) FROM ({differing}) AS d")
            counts.append(int(cur.fetchone()[0]))
            cur.execute(f"SELECT {columns[0]} FROM ({differing}) AS d ORDER BY 1 LIMIT 5")
            sample.update(row[0] for row in cur.fetchall())
        return TableDiff(table, counts[0], counts[1], sorted(sample)[:5])

    def _columns(self, cur: Cursor, table: str) -> list[str]:
        if self.db.dialect == "sqlite":
            cur.execute(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
        else:
            cur.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = ? "
                        "ORDER BY ordinal_position", (table,))
        return [row[0] for row in cur.fetchall()]

    def run(self, *, verify: bool = False, restart: bool = False,
            progress: Progress | None = None,
            live_catch_up: Callable[[], object] = lambda: None) -> Outcome:
        """Fill the shadow (resuming one left by an interrupted run), then swap it in —
        or, with ``verify``, compare it with the live view and leave both in place."""
        if restart:
            self.discard()
        start = self.prepare()
        if progress is not None:
            progress(start, max(self.head(), start))
        if self.bulk is not None:
            self.bulk.run(progress)
            self._index()
        self.fill(progress)
        if verify:
            position, diffs = self.compare(live_catch_up)
            return Outcome(self.view.name, position, False, diffs)
        return Outcome(self.view.name, self.swap(), True)
