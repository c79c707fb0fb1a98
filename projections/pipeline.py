"""The write path, top to bottom: one transaction per batch, then what follows a commit.

``Pipeline.run(work)`` is the ledger's store (``domain.ledger.Store``). In one transaction:

1. the writers' lock on the event table, the views' tracking rows and the log's head;
2. the data keys of the batch's addresses and their aggregates (latest snapshot plus the
   events after it: a bounded read whatever the history) — one statement each;
3. the ledger's commands run on the aggregates (``work``);
4. missing data keys, the new events (sealed) and any due snapshots are written;
5. every view standing at the head applies the new events from memory (no re-read, no
   decryption); a view that fails makes the batch go again with each address in a savepoint
   of its own, and an address that still fails is quarantined (``projections.base``);
6. reactions run on the views' changes inside the same transaction (the sender rules,
   ``application.sender_rules``, read the counts just written and record a sender's new
   state);
7. the views' tracking rows move, and everything commits once.

After the commit, in order: the key cache learns the batch's keys, each view's
``after_commit`` (the Redis status mirror, the message-map cache), a catch-up if some view
lagged, then the ``after_commit`` steps given here (erasure clean-up, outgoing
notifications). All of it is wired in ``api.services.build_services``.

A database that goes away is retried for ``outage_budget_s`` (a short restart never reaches
the client); a commit whose answer was lost is checked by reading the batch's first event
back, so a batch that committed is never reported as failed.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, RecordConflictError

from adapters.event_store import Loaded, SqlEventStore
from adapters.shredding import SqlKeyStore
from adapters.sql import CommitUncertain, Cursor, Database, StoreUnavailable
from domain.address import report_key_of
from domain.ledger import sealing_ids
from domain.policy import Policy, Standing, fold
from domain.seen import WINDOW
from projections.base import Applied, Positioned, Projector, ViewFailed, iso

log = logging.getLogger(__name__)

T = TypeVar("T")
CONFLICT_RETRIES = 12
INDEX_ROW = "~report_keys"  # in projection_tracking: the report index has been filled
Reaction = Callable[["Batch", Applied], None]
AfterCommit = Callable[["Batch"], None]


@dataclass
class Batch:
    """One write transaction, as the ledger sees it (``domain.ledger.Batch``)."""

    pipeline: Pipeline
    cur: Cursor
    careful: bool
    positions: dict[str, int] = field(default_factory=dict)
    head: int = 0
    keys: dict[str, bytes] = field(default_factory=dict)
    new_events: list[Positioned] = field(default_factory=list)
    applied: Applied = field(default_factory=Applied)
    shredded: list[UUID] = field(default_factory=list)
    first_saved: tuple[UUID, int] | None = None
    _bases: dict[UUID, int] = field(default_factory=dict)
    _no_key: set[str] = field(default_factory=set)
    _applied_upto: int = 0
    _begun: bool = False
    _queued: list[Positioned] = field(default_factory=list)

    # -- the ledger's side ---------------------------------------------------------------------

    def load(self, ids: Collection[UUID]) -> dict[UUID, Aggregate]:
        """The current state of these aggregates (absent: never recorded)."""
        self._begin()
        self._ensure_keys(ids, create=False)
        store = self.pipeline.events
        found: dict[UUID, Aggregate] = {}
        for originator, loaded in store.load(self.cur, ids).items():
            aggregate = self._replay(originator, loaded)
            if aggregate is not None:
                found[originator] = aggregate
                self._bases[originator] = self._snapshot_version(loaded)
        return found

    def recorded(self, keys: Collection[tuple[UUID, str]]) -> set[tuple[UUID, str]]:
        """Which ``(aggregate, report key)`` pairs are already recorded (the report index)."""
        self._begin()
        found = self.pipeline.events.recorded(self.cur, {(str(o), k) for o, k in keys})
        return {(UUID(o), k) for o, k in found}

    def save(self, aggregates: Sequence[Aggregate]) -> None:
        """Append the aggregates' pending events (and any snapshot due) to this transaction."""
        self._begin()
        pending = [event for aggregate in aggregates for event in aggregate.collect_events()]
        if not pending:
            return
        self._ensure_keys(sealing_ids(aggregates, pending), create=True)
        mapper = self.pipeline.mapper
        stored = [mapper.to_stored_event(event) for event in pending]
        positions = self.pipeline.events.insert(self.cur, stored)
        self.pipeline.events.index_reports(self.cur, _report_rows(pending))
        if self.first_saved is None:
            self.first_saved = (pending[0].originator_id, pending[0].originator_version)
        self.pipeline.events.put_snapshots(self.cur, [
            mapper.to_stored_event(type(a).Snapshot.take(a)) for a in aggregates
            if self._snapshot_due(a)])
        positioned = list(zip(positions, pending, strict=True))
        self.new_events += positioned
        self._queued += positioned

    def history(self, originator: UUID) -> list[Any]:
        """Every event of one aggregate, read in this transaction (oldest first)."""
        self._begin()
        self._ensure_keys([originator], create=False)
        return [self.pipeline.mapper.to_domain_event(s)
                for s in self.pipeline.events.history(self.cur, originator)]

    def standing(self, originator: UUID, policy: Policy) -> Standing:
        """The address's folded standing now: the status view's row when that view is at the
        head (one indexed read), else a fold of its whole history in this transaction."""
        self._begin()
        status_view = self.pipeline.status_view
        if status_view is not None and self.positions.get(status_view.name) == self.head \
                and not self._queued:
            kept = status_view.standing_in(self.cur, originator)
            if kept is not None:
                return kept
        return fold(self.history(originator), policy)

    def shred(self, originator: UUID) -> None:
        """Delete an erased address's data key and snapshots in this transaction."""
        self._begin()
        self.pipeline.keys.delete_in(self.cur, originator)
        self.pipeline.events.drop_snapshots(self.cur, originator)
        self.pipeline.events.forget_reports(self.cur, address_id=str(originator))
        self.keys.pop(str(originator), None)
        self.shredded.append(originator)

    # -- the pipeline's side -----------------------------------------------------------------

    def _begin(self) -> None:
        if self._begun:
            return
        self._begun = True
        self.pipeline.events.lock(self.cur)
        self.positions, self.head = self.pipeline.projector.lock(self.cur)
        self._applied_upto = self.head

    def finish(self) -> None:
        """Apply what was saved to the views, run the reactions, move the tracking rows."""
        while self._queued:
            queued, self._queued = self._queued, []
            applied = self.pipeline.projector.apply_new(
                self.cur, self.positions, self._applied_upto, queued, careful=self.careful)
            self._applied_upto = queued[-1][0]
            self.applied.merge(applied)
            for react in self.pipeline.reactions:
                react(self, applied)

    def _ensure_keys(self, ids: Collection[UUID | str], *, create: bool) -> None:
        wanted = {str(i) for i in ids} - set(self.keys)
        if not wanted:
            return
        keystore = self.pipeline.keys
        unknown = wanted - self._no_key
        found = keystore.load_in(self.cur, unknown) if unknown else {}
        self._no_key |= unknown - set(found)
        if create:
            found.update(keystore.create_in(self.cur, wanted - set(found)))
            self._no_key -= wanted
        self.keys.update(found)
        keystore.add_to_scope(found)

    def _replay(self, originator: UUID, loaded: Loaded) -> Aggregate | None:
        mapper = self.pipeline.mapper
        aggregate: Any = None
        stored_events = loaded.events
        if loaded.snapshot is not None:
            snapshot: Any = mapper.to_domain_event(loaded.snapshot)
            if hasattr(snapshot, "state"):
                aggregate = snapshot.mutate(None)
            else:  # sealed with a shredded key: the whole history, once
                stored_events = self.pipeline.events.history(self.cur, originator)
        for stored in stored_events:
            event: Any = mapper.to_domain_event(stored)
            aggregate = event.mutate(aggregate)
        return aggregate

    @staticmethod
    def _snapshot_version(loaded: Loaded) -> int:
        return loaded.snapshot.originator_version if loaded.snapshot is not None else 0

    def _snapshot_due(self, aggregate: Aggregate) -> bool:
        if "Snapshot" not in vars(type(aggregate)):
            return False
        base = self._bases.get(aggregate.id, 0)
        if aggregate.version - base < self.pipeline.snapshot_every:
            return False
        self._bases[aggregate.id] = aggregate.version
        return True


class Pipeline:
    """The ledger's store: runs ``work`` in one transaction and what follows the commit."""

    def __init__(self, db: Database, events: SqlEventStore, keys: SqlKeyStore, mapper: Mapper,
                 projector: Projector, *, reactions: Sequence[Reaction] = (),
                 after_commit: Sequence[AfterCommit] = (), snapshot_every: int = 20,
                 outage_budget_s: float = 8.0) -> None:
        self.db, self.events, self.keys, self.mapper = db, events, keys, mapper
        self.projector = projector
        self.reactions, self.after_commit = list(reactions), list(after_commit)
        self.snapshot_every, self.outage_budget_s = snapshot_every, outage_budget_s
        self.status_view = next((v for v in projector.views if hasattr(v, "standing_in")),
                                None)
        self._pruned_at = -float("inf")

    def create_tables(self) -> None:
        """The report index; the first time, filled from the log (an upgrade from a version
        that kept that memory in the aggregate)."""
        with self.db.write() as cur:
            self.events.create_report_index(cur)
            cur.execute("SELECT position FROM projection_tracking WHERE name = ?",
                        (INDEX_ROW,))
            if cur.fetchone() is not None:
                return
            self.events.lock(cur)
            cutoff = iso(datetime.now(UTC) - WINDOW) or ""
            position = 0
            while page := self.events.page(cur, position, 2000):
                rows = _report_rows(e for _, e in self.projector.decode(page))
                self.events.index_reports(cur, [r for r in rows if r[3] or r[2] >= cutoff])
                position = page[-1].id
            cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, ?)",
                        (INDEX_ROW, position))

    def prune_reports(self, every_s: float = 3600.0) -> None:
        """Forget report keys older than the window (at most once per ``every_s``)."""
        now = time.monotonic()
        if now - self._pruned_at < every_s:
            return
        self._pruned_at = now
        with self.db.write() as cur:
            self.events.forget_reports(cur, before=iso(datetime.now(UTC) - WINDOW))

    def run(self, work: Callable[[Batch], T]) -> T:
        """Run ``work`` in one transaction (again on a conflict, a failed view or a short
        outage), then the after-commit steps; returns what ``work`` returned."""
        careful, conflicts = False, 0
        deadline = time.monotonic() + self.outage_budget_s
        while True:
            try:
                result, batch = _within(deadline, partial(self._attempt, work, careful))
            except ViewFailed:
                careful = True
                continue
            except RecordConflictError:
                conflicts += 1
                if conflicts >= CONFLICT_RETRIES:
                    raise
                _back_off(conflicts)
                continue
            self._after(batch)
            return result

    def _attempt(self, work: Callable[[Batch], T], careful: bool) -> tuple[T, Batch]:
        batch: Batch | None = None
        result: Any = None
        try:
            with self.keys.scope(), self.db.write() as cur:
                batch = Batch(self, cur, careful)
                result = work(batch)
                batch.finish()
            return result, batch
        except CommitUncertain:
            if batch is not None and self._committed(batch):
                log.warning("the commit's answer was lost, but the batch is stored")
                return result, batch
            raise
        except (psycopg.errors.UniqueViolation, sqlite3.IntegrityError) as error:
            raise RecordConflictError(str(error)) from error

    def _committed(self, batch: Batch) -> bool:
        """Did the batch whose ``COMMIT`` answer was lost commit? (Its first event says.)"""
        first = batch.first_saved
        if first is None:
            return True  # it wrote nothing

        def exists() -> bool:
            with self.db.read() as cur:
                return self.events.exists(cur, *first)

        return _within(time.monotonic() + self.outage_budget_s, exists)

    def _after(self, batch: Batch) -> None:
        self.keys.remember(batch.keys)
        for originator in batch.shredded:
            self.keys.forget(originator)
        self.projector.committed(batch.applied)
        if batch.applied.lagging:
            self.projector.catch_up()
        for step in self.after_commit:
            step(batch)


def _report_rows(events: Iterable[Any]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for event in events:
        key = report_key_of(event)
        if key is not None:
            rows.append((str(event.originator_id), key, iso(event.timestamp) or "",
                         key.startswith("import:")))
    return rows


def _within(deadline: float, call: Callable[[], T]) -> T:
    """``call()``, again every 0.1 s while the store is unavailable, until ``deadline``: the
    one retry loop of the write path (a batch, and the read that checks a lost commit)."""
    while True:
        try:
            return call()
        except StoreUnavailable as error:
            if time.monotonic() >= deadline:
                raise
            log.warning("store unavailable, retrying: %s", error)
            time.sleep(0.1)


def _back_off(attempt: int) -> None:
    """Jitter before retrying a conflict: a writer that lost the race steps aside."""
    time.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 7)))
