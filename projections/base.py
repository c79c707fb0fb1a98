"""Runs views over the ledger's notification log, many events per transaction.

Each view has its own tracking row in ``projection_tracking``; its rows and its tracking
position change in the same transaction, so every event reaches every view exactly once,
and a view can be rebuilt alone. Two ways in:

- ``apply_new``: inside the write transaction that just appended the events
  (``projections.pipeline``), every view whose position is the log's head before them gets
  the in-memory events — no re-read, no decryption, one commit for events and views.
- ``catch_up``: reads the log after a view's position (another process's writes, a view that
  was rebuilt or lagged). Any number of processes may call it at once: they queue on the
  tracking rows (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite).

Nothing can stall the views: if a view fails on an event, the batch is done again with every
address in a savepoint of its own; an address that still fails is *quarantined*
(``projections.quarantine``) — its events wait there, its status fails closed
(``projection_error``), and every other address keeps flowing until an operator repairs it.

Why not the library's ``ProjectionRunner``: it commits one transaction per event, about
25x slower on PostgreSQL than a batch, and cannot share the write transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification

from adapters.background import Loop
from adapters.event_store import SqlEventStore
from adapters.sql import Cursor, Database, StoreUnavailable
from adapters.timestamps import iso as iso  # re-exported: the views write this format
from adapters.timestamps import parse_iso as parse_iso
from projections.quarantine import COUNT_ROW, Quarantine

log = logging.getLogger(__name__)

Positioned = tuple[int, Any]
Decode = Callable[[Sequence[Notification]], list[Positioned]]

TRACKING_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


def insert_rows(cur: Cursor, head: str, rows: Sequence[Sequence[Any]], tail: str = "",
                types: Sequence[str] = ()) -> None:
    """One statement for many rows. On PostgreSQL with column ``types``: ``unnest`` of one
    array per column (one statement, one round trip, the same SQL text whatever the row
    count); elsewhere ``executemany`` (SQLite runs in process)."""
    if not rows:
        return
    if types and getattr(cur, "dialect", "") == "postgresql":
        arrays = ", ".join(f"?::{t}[]" for t in types)
        columns = [list(column) for column in zip(*rows, strict=True)]
        cur.execute(f"{head} SELECT * FROM unnest({arrays}) {tail}", columns)
        return
    marks = "(" + ",".join("?" * len(rows[0])) + ")"
    cur.executemany(f"{head} VALUES {marks} {tail}", rows)


class View(Protocol):
    """A read model: tables, a batch handler and an optional post-commit step.

    ``fail_closed`` (optional) is called inside the transaction when an address is
    quarantined; a view that answers "may I send?" makes the address unsendable there and
    returns changes for its ``after_commit``."""

    name: str

    def create(self, cur: Cursor) -> None: ...
    def clear(self, cur: Cursor) -> None: ...
    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> Any: ...
    def after_commit(self, changes: Any) -> None: ...


@dataclass
class Applied:
    """What one transaction did to the views: their changes (for ``after_commit``), and
    whether some view lags behind and must catch up after the commit."""

    changes: list[tuple[View, Any]] = field(default_factory=list)
    lagging: bool = False
    quarantined: list[UUID] = field(default_factory=list)
    # Per view, the positions this transaction moved it over: (from, to].
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    def merge(self, other: Applied) -> None:
        self.changes += other.changes
        self.lagging |= other.lagging
        self.quarantined += other.quarantined
        for name, (start, end) in other.spans.items():
            self.spans[name] = (self.spans.get(name, (start, end))[0], end)


class ViewFailed(Exception):
    """A view raised on a batch; the caller redoes the transaction with ``careful=True``."""


class Projector:
    """Brings views up to date with the ledger; ``catch_up`` is safe to call from anywhere."""

    def __init__(self, db: Database, events: SqlEventStore, decode: Decode,
                 views: Sequence[View], *, observers: Sequence[Callable[[Applied], None]] = (),
                 batch_size: int = 500) -> None:
        """``observers`` hear every committed ``Applied`` after the views' own
        ``after_commit`` (the Redis status mirror)."""
        self.db, self.events, self.decode = db, events, decode
        self.views, self.batch_size = list(views), batch_size
        self.observers = list(observers)
        self.quarantine = Quarantine()
        self.position = 0
        self._lock = threading.RLock()

    def with_views(self, views: Sequence[View]) -> Projector:
        """A projector over the same log for other views (an analyst's own view)."""
        return Projector(self.db, self.events, self.decode, views, batch_size=self.batch_size)

    def create_tables(self) -> None:
        with self.db.write() as cur:
            cur.execute(TRACKING_TABLE)
            self.quarantine.create(cur)
            for view in self.views:
                view.create(cur)
                cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, ?) "
                            "ON CONFLICT (name) DO NOTHING",
                            (view.name, self._start(cur, view)))

    def _start(self, cur: Cursor, view: View) -> int:
        """Where a view seen for the first time starts: the beginning of the log, unless it
        only makes sense from now on (``starts_at_head``, e.g. outgoing notifications)."""
        return self.events.head(cur) if getattr(view, "starts_at_head", False) else 0

    # -- inside the write transaction --------------------------------------------------------

    def positions(self, cur: Cursor) -> dict[str, int]:
        """Lock every view's tracking row for this transaction and read its position (and the
        quarantine's count, under ``COUNT_ROW``)."""
        names = [view.name for view in self.views] + [COUNT_ROW]
        cur.execute(f"SELECT name, position FROM projection_tracking WHERE name IN "
                    f"({','.join('?' * len(names))}) ORDER BY name{self.db.for_update}", names)
        return {name: int(position) for name, position in cur.fetchall()}

    def lock(self, cur: Cursor) -> tuple[dict[str, int], int]:
        """``positions`` and the log's head (the last position written), in one statement."""
        names = [view.name for view in self.views] + [COUNT_ROW]
        cur.execute(f"SELECT name, position, ({self.events.head_query()}) "
                    f"FROM projection_tracking WHERE name IN ({','.join('?' * len(names))}) "
                    f"ORDER BY name{self.db.for_update}", names)
        rows = cur.fetchall()
        head = int(rows[0][2] or 0) if rows else 0
        return {name: int(position) for name, position, _ in rows}, head

    def apply_new(self, cur: Cursor, positions: dict[str, int], head: int,
                  events: Sequence[Positioned], *, careful: bool) -> Applied:
        """Apply events just appended after ``head`` to the views that stand at ``head``
        (``positions`` from ``positions``, read under the same lock). A view that raises
        aborts the transaction with ``ViewFailed`` unless ``careful``."""
        current = [view for view in self.views if positions.get(view.name) == head]
        applied = Applied(lagging=len(current) < len(self.views))
        if events and current:
            self._apply(cur, current, list(events), applied, careful=careful,
                        held_possible=positions.get(COUNT_ROW, 0) > 0)
            self._advance(cur, current, events[-1][0])
            for view in current:
                positions[view.name] = events[-1][0]
                applied.spans[view.name] = (head, events[-1][0])
        return applied

    def committed(self, applied: Applied) -> None:
        """After the commit of ``applied``: the views' ``after_commit``, then the observers."""
        for view, change in applied.changes:
            view.after_commit(change)
        for observe in self.observers:
            observe(applied)

    # -- catching up from the log -------------------------------------------------------------

    def catch_up(self, upto: int | None = None) -> int:
        """Process every event recorded so far (or at least up to ``upto``)."""
        if upto is not None and upto <= self.position:
            return self.position
        with self._lock:
            careful = False
            while True:
                try:
                    more = self._step(careful)
                except ViewFailed:
                    careful = True
                    continue
                careful = False
                if not more:
                    break
        return self.position

    def _step(self, careful: bool) -> bool:
        with self.db.write() as cur:
            positions = self.positions(cur)
            held_possible = positions.pop(COUNT_ROW, 0) > 0
            start = min(positions.values())
            notifications = self.events.page(cur, start, self.batch_size)
            if not notifications:
                self.position = max(self.position, start)
                return False
            events = self.decode(notifications)
            applied = Applied()
            last = events[-1][0]
            for view in self.views:
                mine = [pe for pe in events if pe[0] > positions[view.name]]
                if mine:
                    self._apply(cur, [view], mine, applied, careful=careful,
                                held_possible=held_possible)
                applied.spans[view.name] = (positions[view.name], last)
            self._advance(cur, self.views, last)
        self.position = max(self.position, last)
        self.committed(applied)
        return len(notifications) == self.batch_size

    def _advance(self, cur: Cursor, views: Sequence[View], position: int) -> None:
        names = [view.name for view in views]
        cur.execute("UPDATE projection_tracking SET position = ? "
                    f"WHERE name IN ({','.join('?' * len(names))})", [position, *names])

    # -- applying, with quarantine -------------------------------------------------------------

    def _apply(self, cur: Cursor, views: Sequence[View], events: list[Positioned],
               applied: Applied, *, careful: bool, held_possible: bool) -> None:
        held = (self.quarantine.held(cur, {e.originator_id for _, e in events})
                if held_possible else set())
        if held:
            events = self._hold(cur, views, events, held)
        if not careful:
            try:
                applied.changes += [(view, view.apply(cur, events)) for view in views]
            except CONNECTION_ERRORS:
                raise
            except Exception as error:
                log.warning("a view failed on a batch (%s: %s); redoing it address by address",
                            type(error).__name__, error)
                raise ViewFailed(str(error)) from error
            return
        for originator, mine in _by_originator(events).items():
            self._apply_one(cur, views, originator, mine, applied)

    def _apply_one(self, cur: Cursor, views: Sequence[View], originator: UUID,
                   events: list[Positioned], applied: Applied) -> None:
        cur.execute("SAVEPOINT address")
        try:
            changes = [(view, view.apply(cur, events)) for view in views]
        except CONNECTION_ERRORS:
            raise
        except Exception as error:
            cur.execute("ROLLBACK TO SAVEPOINT address")
            log.error("quarantined %s: a view failed on its events at %d (%s)", originator,
                      events[0][0], type(error).__name__)
            self.quarantine.hold(cur, originator, _address_of(events), events[0][0],
                                 f"{type(error).__name__}: {error}")
            self._hold(cur, views, events, {originator})
            applied.quarantined.append(originator)
            applied.changes += self._fail_closed(cur, originator, events[-1][0])
            return
        cur.execute("RELEASE SAVEPOINT address")
        applied.changes += changes

    def _hold(self, cur: Cursor, views: Sequence[View], events: list[Positioned],
              held: Collection[UUID]) -> list[Positioned]:
        """Set aside the events of quarantined addresses for these views; the rest goes on."""
        kept = [pe for pe in events if pe[1].originator_id not in held]
        waiting = [pe for pe in events if pe[1].originator_id in held]
        self.quarantine.skip(cur, [view.name for view in views],
                             [(e.originator_id, p) for p, e in waiting])
        return kept

    def _fail_closed(self, cur: Cursor, originator: UUID,
                     position: int) -> list[tuple[View, Any]]:
        """Each view that answers "may I send?" says no for the address. If even that write
        fails, the quarantine row itself keeps reads closed (``StatusReader``)."""
        changes = []
        for view in self.views:
            fail_closed = getattr(view, "fail_closed", None)
            if fail_closed is None:
                continue
            cur.execute("SAVEPOINT fail_closed")
            try:
                changes.append((view, fail_closed(cur, originator, position)))
            except CONNECTION_ERRORS:
                raise
            except Exception as error:
                cur.execute("ROLLBACK TO SAVEPOINT fail_closed")
                log.error("could not mark %s not sendable in %s (%s); the quarantine row "
                          "keeps it closed", originator, view.name, type(error).__name__)
            else:
                cur.execute("RELEASE SAVEPOINT fail_closed")
        return changes

    # -- operators ----------------------------------------------------------------------------

    def repair(self, originator: UUID | None = None) -> list[dict[str, Any]]:
        """Apply the waiting events of quarantined addresses again (one, or all); those
        that now succeed leave the quarantine. Returns what is still quarantined."""
        with self._lock:
            with self.db.read() as cur:
                targets = [originator] if originator else self.quarantine.originators(cur)
            for target in targets:
                self._repair_one(target)
            with self.db.read() as cur:
                return self.quarantine.list(cur)

    def _repair_one(self, originator: UUID) -> None:
        applied = Applied()
        with self.db.write() as cur:
            self.positions(cur)  # the views' lock: no batch runs meanwhile
            waiting = self.quarantine.waiting(cur, originator)
            cur.execute("SAVEPOINT repair")
            try:
                for view in self.views:
                    positions = waiting.get(view.name, [])
                    if positions:
                        events = self.decode(self.events.at(cur, positions))
                        applied.changes.append((view, view.apply(cur, events)))
            except CONNECTION_ERRORS:
                raise
            except Exception as error:
                cur.execute("ROLLBACK TO SAVEPOINT repair")
                self.quarantine.still_failing(cur, originator,
                                              f"{type(error).__name__}: {error}")
                log.error("repair of %s failed again (%s)", originator, type(error).__name__)
                return
            self.quarantine.release(cur, originator)
        self.committed(applied)
        log.info("repaired %s: its waiting events reached every view", originator)

    def rebuild(self, name: str) -> int:
        """Empty one view and its tracking, then replay every event into it."""
        view = next((v for v in self.views if v.name == name), None)
        if view is None:
            raise KeyError(name)
        with self.db.write() as cur:
            view.clear(cur)
            cur.execute("UPDATE projection_tracking SET position = 0 WHERE name = ?", (name,))
        self.position = 0
        return self.catch_up()


def _by_originator(events: Sequence[Positioned]) -> dict[UUID, list[Positioned]]:
    grouped: dict[UUID, list[Positioned]] = defaultdict(list)
    for positioned in events:
        grouped[positioned[1].originator_id].append(positioned)
    return grouped


def _address_of(events: Sequence[Positioned]) -> str | None:
    for _, event in events:
        address = getattr(event, "address", None)
        if isinstance(address, str):
            return address
    return None


# Errors that mean "the database is not there", not "this event cannot be stored": those fail
# the whole transaction (503 and a retry), never quarantine an address.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailable, psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)


def decode_with(mapper: Any) -> Decode:
    """Decode a page of the log with the ledger's mapper; a mapper that seals events with
    per-address keys (``adapters.shredding``) first loads the page's keys in one query."""
    def decode(notifications: Sequence[Notification]) -> list[Positioned]:
        prepare = getattr(mapper, "prepare", None)
        if prepare is not None:
            prepare(notifications)
        return [(n.id, mapper.to_domain_event(n)) for n in notifications]

    return decode


def decode(ledger: Any, notifications: Sequence[Notification]) -> list[Positioned]:
    """A page of the log as ``(position, event)`` (the analytics' entry point)."""
    return decode_with(ledger.mapper)(notifications)


class Follower:
    """Polls the log so events written by other processes reach the views (and runs the
    ``also`` tasks each turn: the Redis mirror's repair, the quarantine gauge, …)."""

    def __init__(self, projector: Projector, interval: float = 1.0,
                 also: Sequence[Callable[[], object]] = ()) -> None:
        self.projector, self.also = projector, list(also)
        self._loop = Loop("projection-follower", self._turn, interval)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def _turn(self) -> None:
        self.projector.catch_up()
        for task in self.also:
            task()
