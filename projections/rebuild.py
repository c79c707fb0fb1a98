"""Rebuild one view from the first event into shadow tables, then swap them in.

The live tables keep answering while the shadow (``<table>__rebuild``) fills, many events per
transaction, under its own tracking row (``<view>__rebuild``) — so an interrupted rebuild
resumes where it stopped. The swap happens in one transaction that holds the live view's
tracking row: the last few events go into the shadow, the live tables are dropped, the
shadow is renamed, and the live tracking row moves to the shadow's position. Readers see the
old table or the new one, never an empty or half-built one (PostgreSQL: DDL is
transactional; SQLite: one ``BEGIN IMMEDIATE``, WAL readers keep their snapshot).

The view's own SQL is reused unchanged: a cursor wrapper rewrites the names of the tables
the view creates (found by a dry run of ``view.create``). On SQLite, secondary indexes are
built at the swap (SQLite cannot rename an index); on PostgreSQL they are built with the
shadow and renamed at the swap, so the live table is locked only for the renames.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.sql import Cursor, Database
from domain.ledger import Ledger
from projections.base import TRACKING_TABLE, View, decode

SUFFIX = "__rebuild"
Progress = Callable[[int, int], None]
_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_CREATE_INDEX = re.compile(r"\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
                           re.I)


class _DryRun:
    """A cursor that only remembers the statements it is given."""

    dialect = ""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _DryRun:
        self.statements.append(sql)
        return self

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> _DryRun:
        return self.execute(sql)

    def fetchone(self) -> Any:
        return None

    def fetchall(self) -> list[Any]:
        return []


def owned_tables(view: View) -> list[str]:
    """The tables ``view.create`` makes (its own; anything else it reads stays live)."""
    dry = _DryRun()
    view.create(dry)
    return [m.group(1) for s in dry.statements if (m := _CREATE_TABLE.search(s))]


class ShadowCursor:
    """Runs a view's SQL against its shadow tables."""

    def __init__(self, cur: Cursor, tables: Sequence[str], *, skip_indexes: bool) -> None:
        self._cur, self._skip_indexes = cur, skip_indexes
        self.dialect = cur.dialect
        self._names = re.compile(r"\b(" + "|".join(map(re.escape, tables)) + r")\b")

    def rewrite(self, sql: str) -> str | None:
        index = _CREATE_INDEX.match(sql)
        if index is not None:
            if self._skip_indexes:
                return None
            sql = sql[:index.end(1)] + SUFFIX + sql[index.end(1):]
        return self._names.sub(lambda m: m.group(1) + SUFFIX, sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> ShadowCursor:
        rewritten = self.rewrite(sql)
        if rewritten is not None:
            self._cur.execute(rewritten, params)
        return self

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> ShadowCursor:
        rewritten = self.rewrite(sql)
        if rewritten is not None:
            self._cur.executemany(rewritten, params)
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


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


def quiet_copy(view: View) -> View:
    """The view without its after-commit listeners (``on_*`` lists): the shadow has none."""
    clone = copy.copy(view)
    for name, value in vars(clone).items():
        if name.startswith("on_") and isinstance(value, list):
            setattr(clone, name, [])
    return clone


class Rebuild:
    """Rebuilds one view beside the live one; ``run`` resumes an interrupted rebuild."""

    def __init__(self, ledger: Ledger, db: Database, view: View, batch_size: int = 5000) -> None:
        self.ledger, self.db, self.batch_size = ledger, db, batch_size
        self.view, self.shadow = view, quiet_copy(view)
        self.tables = owned_tables(view)
        self.tracking = view.name + SUFFIX

    # -- the shadow --------------------------------------------------------------------------

    def _cursor(self, cur: Cursor) -> ShadowCursor:
        return ShadowCursor(cur, self.tables, skip_indexes=self.db.dialect == "sqlite")

    def discard(self) -> None:
        """Drop the shadow tables and their tracking (start again from the first event)."""
        with self.db.write() as cur:
            for table in self.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
            cur.execute(TRACKING_TABLE)
            cur.execute("DELETE FROM projection_tracking WHERE name = ?", (self.tracking,))

    def prepare(self) -> int:
        """Create the shadow (if not there yet); returns its position (0 for a fresh one)."""
        with self.db.write() as cur:
            cur.execute(TRACKING_TABLE)
            cur.execute("SELECT position FROM projection_tracking WHERE name = ?",
                        (self.tracking,))
            row = cur.fetchone()
            if row is not None:
                return int(row[0])
            for table in self.tables:  # leftovers without tracking are not trustworthy
                cur.execute(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
            self.shadow.create(self._cursor(cur))
            cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, 0)",
                        (self.tracking,))
        return 0

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
        self.shadow.apply(self._cursor(cur), events)
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
        self.fill(progress)
        if verify:
            position, diffs = self.compare(live_catch_up)
            return Outcome(self.view.name, position, False, diffs)
        return Outcome(self.view.name, self.swap(), True)
