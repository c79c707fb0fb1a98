"""A rebuild's first pass: the whole log into a view's empty shadow tables in one read.

A view that offers ``load(cur, events)`` is filled this way (the others event by event):

- ``bulk_reads_data`` true: the events come **per aggregate, in version order** (every event
  of an address in one call), each row with its address's data key (read with the rows),
  each event decrypted and decoded only when the view asks ``event.fields()``.
  ``email_status`` folds each history with the mutable fold and writes its rows with
  ``COPY``.
- ``bulk_reads_data`` false: the events come in log order **without their data** — type,
  aggregate, version and position only; nothing is decrypted or decoded (counts per type).

All of it reads one snapshot (``adapters.event_log``) up to its head; the rows after that
are the tail, which the rebuild then applies the normal way. Chunks of about
``batch_size`` events commit as they go with a resume mark (snapshot head, last aggregate
or position done), so an interrupted rebuild goes on from there; a resumed pass reads only
positions up to the same head, so every event is loaded exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Protocol, runtime_checkable

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.event_log import EventLog, Row, Snapshot, hyphenated
from adapters.shredding import VERSION, unseal
from adapters.sql import Cursor, Database
from domain.address import Address
from projections.log_rows import Kind, Opener, kind, open_others, python_value, stale
from projections.workers import in_order, reader, shareable, worth_it

MARKS_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_rebuilds (name TEXT PRIMARY KEY, "
    "upto BIGINT NOT NULL, resume_after TEXT, done BIGINT NOT NULL)"
)
Progress = Callable[[int, int], None]
PAGE_SIZE = 5000


class _Keys:
    """One aggregate's data key, as a cipher built on first use."""

    __slots__ = ("_cipher", "_key", "snapshot")

    def __init__(self, snapshot: Snapshot, key: bytes | None) -> None:
        self.snapshot, self._key = snapshot, key
        self._cipher: AESGCM | None = None

    def cipher(self) -> AESGCM | None:
        if self._cipher is None and self._key is not None:
            self._cipher = AESGCM(bytes(self._key))
        return self._cipher

    def other(self, key_id: str) -> AESGCM | None:
        """Another address's cipher (the other side of an email change): one query."""
        key = self.snapshot.keys([key_id]).get(key_id)
        return AESGCM(key) if key else None


class LogEvent:
    """One stored event: its place and type at once, its fields only when asked for."""

    __slots__ = ("_keys", "_kind", "_opener", "_row", "address_event", "cls", "originator_id",
                 "position", "type", "version")

    def __init__(self, row: Row, what: Kind, opener: Opener, keys: _Keys) -> None:
        self.position, self.originator_id, self.version = row[0], row[1], row[2]
        self.cls, self.type, self.address_event = what.cls, what.name, what.address
        self._row, self._kind, self._opener, self._keys = row, what, opener, keys

    def fields(self) -> dict[str, Any] | None:
        """Every field (``timestamp`` and ``occurred_at`` included) as Python values; ``None``
        for a redacted event (its address was erased)."""
        row = self._row
        key, version, topic, state = row[1], row[2], row[3], row[4]
        if state is None:
            raise RuntimeError("this pass reads event types only (bulk_reads_data is false)")
        data: dict[str, Any] | None = None
        if self.address_event and state[:1] == VERSION:
            plain = unseal(state, key, self._keys.cipher())[1]  # the usual case, inline
            if plain is None:
                return None
            data = orjson.loads(plain)
            if stale(data, self._kind):
                data = self._opener.upcast(key, version, topic, bytes(state)).state
            elif self.cls in _CHANGES:
                open_others(data, key, self._keys.other)
        else:
            opened = self._opener.open(key, version, topic, bytes(state),
                                       self._keys.cipher() if self.address_event else None,
                                       self._keys.other)
            data = opened.state
        if data is None:
            return None
        for name, value in data.items():
            if type(value) is dict or type(value) is list:
                data[name] = python_value(value)
        return data

    def times(self) -> dict[str, Any] | None:
        """Only ``timestamp`` and ``occurred_at`` — ``None`` for a redacted event, exactly as
        ``fields()``. A sealed event is still decrypted (that is what proves it readable and
        untouched), but only its small plain header is decoded, not the state."""
        key, state = self._row[1], self._row[4]
        if state is None or not self.address_event or state[:1] != VERSION:
            return self.fields()
        header, plain = unseal(state, key, self._keys.cipher())
        if plain is None:
            return None
        times = orjson.loads(header)
        occurred = times["occurred_at"]
        return {"timestamp": datetime.fromisoformat(times["timestamp"]["_data_"]),
                "occurred_at": None if occurred is None
                else datetime.fromisoformat(occurred["_data_"])}


_CHANGES = (Address.EmailChangedTo, Address.EmailChangedFrom)


@runtime_checkable
class BulkView(Protocol):
    """What a view offers to be filled in one pass (see the module's docstring)."""

    name: str
    bulk_reads_data: bool

    def load(self, cur: Cursor, events: Sequence[LogEvent]) -> Any: ...


@runtime_checkable
class FoldingView(BulkView, Protocol):
    """A bulk view whose fold can run in another process (``projections.workers``):
    ``folder`` maps whole histories to a picklable result, ``write`` stores that result."""

    @property
    def folder(self) -> Callable[[Sequence[LogEvent]], Any]: ...

    def write(self, cur: Cursor, folded: Any) -> None: ...


def boundaries(parts: int) -> list[str]:
    """``parts - 1`` aggregate ids splitting the id space evenly (ids are uniform: uuid5
    of the address, or random), in the text form both stores compare."""
    return [hyphenated(f"{i * (1 << 128) // parts:032x}") for i in range(1, parts)]


def histories(snapshot: Snapshot, opener: Opener, upto: int, after: str | None,
              until: str | None, size: int) -> Iterator[tuple[list[LogEvent], str | None]]:
    """Whole histories of aggregates ``after < id <= until``, about ``size`` events per
    chunk, with the last aggregate in each (the resume mark); data keys read with the rows."""
    chunk: list[LogEvent] = []
    current, keys = None, _Keys(snapshot, None)
    for page in snapshot.by_aggregate(upto, after, PAGE_SIZE, until, keyed=True):
        for row in page:
            if row[1] != current:
                if len(chunk) >= size:
                    yield chunk, current
                    chunk = []
                current, keys = row[1], _Keys(snapshot, row[5])
            chunk.append(LogEvent(row, kind(row[3]), opener, keys))
    yield chunk, current


class BulkLoad:
    """The first pass of one rebuild into ``shadow`` (whose tracking row is ``tracking``)."""

    def __init__(self, log: EventLog, mapper: Any, db: Database, shadow: BulkView,
                 tracking: str, batch_size: int, workers: int = 1) -> None:
        self.log, self.db, self.shadow, self.tracking = log, db, shadow, tracking
        self.opener, self.batch_size = Opener(mapper), max(1, batch_size)
        self.workers = workers if (shareable(log, workers) and shadow.bulk_reads_data
                                   and isinstance(shadow, FoldingView)) else 1

    def prepare(self, cur: Cursor) -> None:
        cur.execute(MARKS_TABLE)

    def done_so_far(self, cur: Cursor) -> int | None:
        """Events loaded by an unfinished pass, or ``None`` when none is under way."""
        cur.execute("SELECT done FROM projection_rebuilds WHERE name = ?", (self.tracking,))
        row = cur.fetchone()
        return int(row[0]) if row else None

    def forget(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM projection_rebuilds WHERE name = ?", (self.tracking,))

    def run(self, progress: Progress | None = None) -> None:
        """Load every event up to the snapshot's head (or go on with an unfinished pass)."""
        with self.db.write() as cur:
            position = self._lock(cur)
            cur.execute("SELECT upto, resume_after, done FROM projection_rebuilds "
                        "WHERE name = ?", (self.tracking,))
            mark = cur.fetchone()
        if mark is None and position > 0:
            return  # past the first pass: only the tail is left
        with self.log.snapshot(share=self.workers > 1) as snapshot:
            upto, after, done = (int(mark[0]), mark[1], int(mark[2])) if mark else (
                snapshot.head, None, 0)
            if upto == 0:
                return
            if mark is None:
                with self.db.write() as cur:
                    cur.execute("INSERT INTO projection_rebuilds (name, upto, resume_after, "
                                "done) VALUES (?, ?, NULL, 0)", (self.tracking, upto))
            pieces = (self._in_workers(snapshot, upto, after)
                      if snapshot.shared and worth_it(upto - done)
                      else self._here(snapshot, upto, after))
            for count, write, resume_after, last in pieces:
                done += count
                self._commit(write, upto, resume_after, done, last)
                if progress is not None:
                    progress(done, upto)

    def _here(self, snapshot: Snapshot, upto: int, after: str | None) -> Iterator[Piece]:
        for chunk, resume_after, last in self._chunks(snapshot, upto, after):
            yield len(chunk), partial(self.shadow.load, events=chunk), resume_after, last

    def _in_workers(self, snapshot: Snapshot, upto: int, after: str | None
                    ) -> Iterator[Piece]:
        """Ranges of aggregate ids, each folded in a worker; written here in id order (so
        the resume mark is a range's end). About 50,000 events a range."""
        shadow: FoldingView = self.shadow  # type: ignore[assignment]
        ends = [end for end in boundaries(max(4 * self.workers, min(4096, upto // 50_000)))
                if after is None or end > after]
        ranges = list(zip([after, *ends], [*ends, None], strict=True))
        tasks = [(_fold_range, (snapshot.shared, upto, lo, hi, self.batch_size, shadow.folder))
                 for lo, hi in ranges]
        for i, (count, folded) in enumerate(in_order(self.log, tasks, self.workers)):
            yield count, partial(_write_all, shadow, folded), ranges[i][1], i == len(ranges) - 1

    def _chunks(self, snapshot: Snapshot, upto: int, after: str | None
                ) -> Iterator[tuple[list[LogEvent], str | None, bool]]:
        """``(events, resume mark after them, last?)``: whole aggregates, or log pages."""
        if not self.shadow.bulk_reads_data:
            keys = _Keys(snapshot, None)
            pages = snapshot.pages(int(after or 0), self.batch_size, upto=upto, states=False)
            page = next(pages, [])
            while page:
                following = next(pages, [])
                yield self._events(page, keys), str(page[-1][0]), not following
                page = following
            return
        whole = histories(snapshot, self.opener, upto, after, None, self.batch_size)
        events, current = next(whole)
        for chunk in whole:
            yield events, current, False
            events, current = chunk
        yield events, current, True

    def _events(self, rows: list[Row], keys: _Keys) -> list[LogEvent]:
        return [LogEvent(row, kind(row[3]), self.opener, keys) for row in rows]

    def _commit(self, write: Callable[[Cursor], object], upto: int, resume_after: str | None,
                done: int, last: bool) -> None:
        with self.db.write() as cur:
            self._lock(cur)
            write(cur)
            if last:
                self.forget(cur)
                cur.execute("UPDATE projection_tracking SET position = ? WHERE name = ?",
                            (upto, self.tracking))
            else:
                cur.execute("UPDATE projection_rebuilds SET resume_after = ?, done = ? "
                            "WHERE name = ?", (resume_after, done, self.tracking))

    def _lock(self, cur: Cursor) -> int:
        cur.execute("SELECT position FROM projection_tracking WHERE name = ?"
                    f"{self.db.for_update}", (self.tracking,))
        row = cur.fetchone()
        if row is None:
            raise RuntimeError(f"{self.tracking}: the rebuild's tracking row is gone "
                               "(another replay swapped it in); run replay again")
        return int(row[0])


# One committed piece of a first pass: (events, what writes them, resume mark, last?).
Piece = tuple[int, Callable[[Cursor], object], str | None, bool]


def _write_all(shadow: FoldingView, folded: list[Any], cur: Cursor) -> None:
    for part in folded:
        shadow.write(cur, part)


def _fold_range(shared: str, upto: int, after: str | None, until: str | None, size: int,
                folder: Callable[[Sequence[LogEvent]], Any]) -> tuple[int, list[Any]]:
    """In a worker: the folded histories of aggregates ``after < id <= until`` of the
    shared snapshot, one result per chunk of about ``size`` events."""
    own = reader()
    count, folded = 0, []
    with own.log.snapshot(join=shared) as snapshot:
        for chunk, _ in histories(snapshot, own.opener, upto, after, until, size):
            if chunk:
                count += len(chunk)
                folded.append(folder(chunk))
    return count, folded
