"""Stored event rows read straight from the library's events table, for whole-log work.

Export and rebuild read every event of the ledger. Through the library each row becomes a
``Notification``, then a domain event object decoded with JSON type hooks: most of the time
of a whole-log read. Here rows stay tuples — ``(position, originator_id, version, topic,
state)``, the id as hyphenated text on both stores — read inside one snapshot (PostgreSQL
``REPEATABLE READ`` with a binary server-side cursor; SQLite one read transaction), so a long
read sees one consistent log and the data keys as they were when it began. Decoding is the
caller's business (``projections.log_rows``); this module only moves rows.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Collection, Generator, Iterator, Sequence
from contextlib import contextmanager
from queue import Full, Queue
from typing import Any

import orjson
import psycopg
from psycopg import sql

from adapters.sql import DatabaseUrl, StoreUnavailable

Row = tuple[Any, ...]
KEYS_TABLE = "address_keys"


def hyphenated(hex_id: str) -> str:
    """A uuid's 32 hex digits in its canonical text form (SQLite stores the hex)."""
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def ahead(pages: Generator[list[Row], None, None], depth: int = 2) -> Iterator[list[Row]]:
    """The same pages, read on a thread up to ``depth`` pages ahead: the server produces
    and sends the next page while the caller works on this one (psycopg waits on the
    network without the GIL). Stopping early stops the reader."""
    queue: Queue[Any] = Queue(depth)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            with contextlib.suppress(Full):
                queue.put(item, timeout=0.1)
                return True
        return False

    def read() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            offer(_END)
        except BaseException as error:  # handed to the caller, raised there
            offer(error)
        finally:
            pages.close()  # the server-side cursor closes here, on this thread

    thread = threading.Thread(target=read, name="event-log-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


_END = object()


class Snapshot:
    """One consistent view of the events table (and of every table beside it)."""

    head: int
    shared: str | None = None  # PostgreSQL: the id other sessions join it by (``EventLog``)

    def pages(self, after: int, size: int, *, upto: int | None = None,
              states: bool = True, keyed: bool = False) -> Iterator[list[Row]]:
        """Rows after ``after`` (up to ``upto``, else the head) in log order, ``size`` at a
        time; without ``states`` the state column is ``None`` (work on event types only);
        ``keyed`` adds a sixth column, the aggregate's data key (``None``: none, erased)."""
        raise NotImplementedError  # pragma: no cover

    def by_aggregate(self, upto: int, after_id: str | None, size: int,
                     until_id: str | None = None, *, keyed: bool = False
                     ) -> Iterator[list[Row]]:
        """Rows up to position ``upto`` ordered by aggregate then version (aggregates after
        ``after_id``, up to and with ``until_id``), ``size`` at a time; ``keyed`` as in
        ``pages``."""
        raise NotImplementedError  # pragma: no cover

    def select_in(self, table: str, columns: str, key: str,
                  values: Collection[str]) -> list[Row]:
        """``SELECT columns FROM table WHERE key IN values`` as one query."""
        raise NotImplementedError  # pragma: no cover

    def keys(self, ids: Collection[str]) -> dict[str, bytes]:
        """The data keys of these aggregates (an erased one has none): one query."""
        return {key_id: bytes(key) for key_id, key in
                self.select_in(KEYS_TABLE, "address_id, data_key", "address_id", ids)}

    def first_states(self, ids: Collection[str]) -> list[Row]:
        """``(originator_id, topic, state)`` of these aggregates' first events."""
        raise NotImplementedError  # pragma: no cover


class _PgSnapshot(Snapshot):
    def __init__(self, conn: psycopg.Connection[Any], table: str) -> None:
        self._conn, self._table = conn, table
        self._select = ("SELECT notification_id, originator_id::text, originator_version, "
                        "topic, {state}{key} FROM " + table + "{join}")
        row = conn.execute(f"SELECT COALESCE(MAX(notification_id), 0) FROM {table}").fetchone()
        self.head = int(row[0]) if row else 0

    def _stream(self, sql: str, params: Sequence[Any], size: int
                ) -> Generator[list[Row], None, None]:
        with self._conn.cursor(name="bounceledger_log", binary=True) as cur:
            cur.itersize = size
            cur.execute(sql, params)
            while rows := cur.fetchmany(size):
                yield rows

    def _select_rows(self, states: bool, joined: bool) -> str:
        return self._select.format(
            state="state" if states else "NULL::bytea",
            key=f", {KEYS_TABLE}.data_key" if joined else "",
            join=(f" LEFT JOIN {KEYS_TABLE} ON {KEYS_TABLE}.address_id = originator_id::text"
                  if joined else ""))

    def pages(self, after: int, size: int, *, upto: int | None = None,
              states: bool = True, keyed: bool = False) -> Iterator[list[Row]]:
        # Keys joined: PostgreSQL looks them up on its own core while this process decodes
        # the page before (measured: 20 % more events/s than a key query per page).
        yield from ahead(self._stream(self._select_rows(states, keyed) + " WHERE "
                                      "notification_id > %s AND notification_id <= %s "
                                      "ORDER BY notification_id", (after, upto or self.head),
                                      size))

    def by_aggregate(self, upto: int, after_id: str | None, size: int,
                     until_id: str | None = None, *, keyed: bool = False
                     ) -> Iterator[list[Row]]:
        # A cursor's plan starts fast: the primary key's index, no sort of the whole log.
        where, params = "notification_id <= %s", list[Any]([upto])
        if after_id is not None:
            where += " AND originator_id > %s::uuid"
            params.append(after_id)
        if until_id is not None:
            where += " AND originator_id <= %s::uuid"
            params.append(until_id)
        # Keys joined; rows come grouped by address, so the lookup is memoized per address.
        yield from ahead(self._stream(self._select_rows(True, keyed) + f" WHERE {where} "
                                      "ORDER BY originator_id, originator_version", params,
                                      size))

    def select_in(self, table: str, columns: str, key: str,
                  values: Collection[str]) -> list[Row]:
        if not values:
            return []
        return self._conn.execute(f"SELECT {columns} FROM {table} WHERE {key} = ANY(%s)",
                                  (list(values),)).fetchall()

    def first_states(self, ids: Collection[str]) -> list[Row]:
        return self._conn.execute(
            f"SELECT originator_id::text, topic, state FROM {self._table} "
            "WHERE originator_id = ANY(%s::uuid[]) AND originator_version = 1",
            (list(ids),)).fetchall()


class _SqliteSnapshot(Snapshot):
    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        self._conn, self._table = conn, table
        self.head = int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}"
                                     ).fetchone()[0])

    def _rows(self, cursor: sqlite3.Cursor) -> Iterator[Row]:
        for position, hex_id, version, topic, state in cursor:
            yield (position, hyphenated(hex_id), version, topic, state)

    def pages(self, after: int, size: int, *, upto: int | None = None,
              states: bool = True, keyed: bool = False) -> Iterator[list[Row]]:
        cursor = self._conn.execute(
            f"SELECT rowid, originator_id, originator_version, topic, "
            f"{'state' if states else 'NULL'} FROM {self._table} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (after, upto or self.head))
        pages = self._paged(self._rows(cursor), size)
        yield from self._keyed(pages) if keyed else pages

    def _keyed(self, pages: Generator[list[Row], None, None]
               ) -> Generator[list[Row], None, None]:
        """Pages with each row's data key, one key query per page."""
        try:
            for page in pages:
                keys = self.keys({row[1] for row in page})
                yield [(*row, keys.get(row[1])) for row in page]
        finally:
            pages.close()

    def _paged(self, rows: Iterator[Row], size: int) -> Generator[list[Row], None, None]:
        while page := [row for _, row in zip(range(size), rows, strict=False)]:
            yield page

    def by_aggregate(self, upto: int, after_id: str | None, size: int,
                     until_id: str | None = None, *, keyed: bool = False
                     ) -> Iterator[list[Row]]:
        where, params = "rowid <= ?", list[Any]([upto])
        if after_id is not None:
            where += " AND originator_id > ?"
            params.append(after_id.replace("-", ""))
        if until_id is not None:
            where += " AND originator_id <= ?"
            params.append(until_id.replace("-", ""))
        cursor = self._conn.execute(
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self._table} "
            f"WHERE {where} ORDER BY originator_id, originator_version", params)
        pages = self._paged(self._rows(cursor), size)
        yield from self._keyed(pages) if keyed else pages

    def select_in(self, table: str, columns: str, key: str,
                  values: Collection[str]) -> list[Row]:
        if not values:
            return []
        return self._conn.execute(
            f"SELECT {columns} FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))",
            (orjson.dumps(list(values)).decode(),)).fetchall()

    def first_states(self, ids: Collection[str]) -> list[Row]:
        rows = self._conn.execute(
            f"SELECT originator_id, topic, state FROM {self._table} WHERE originator_id IN "
            "(SELECT value FROM json_each(?)) AND originator_version = 1",
            (orjson.dumps([i.replace("-", "") for i in ids]).decode(),)).fetchall()
        return [(hyphenated(hex_id), topic, state) for hex_id, topic, state in rows]


class EventLog:
    """Where the events are: the database and the library's events table."""

    def __init__(self, url: DatabaseUrl, table: str) -> None:
        self.url, self.table = url, table

    @classmethod
    def of(cls, url: DatabaseUrl, recorder: Any) -> EventLog:
        """The events table of the ledger's recorder (``<application>_events``)."""
        return cls(url, recorder.events_table_name)

    @contextmanager
    def snapshot(self, *, share: bool = False, join: str | None = None) -> Iterator[Snapshot]:
        """A read-only snapshot, held until the block ends. PostgreSQL only: ``share``
        exports it (``Snapshot.shared``, valid while this block runs) and ``join`` reads
        inside one exported by another session — several processes, one log."""
        if self.url.dialect == "sqlite":
            if share or join:
                raise ValueError("only PostgreSQL shares a snapshot between sessions")
            with self._sqlite() as snapshot:
                yield snapshot
            return
        with self._postgres(share, join) as snapshot:
            yield snapshot

    @contextmanager
    def _sqlite(self) -> Iterator[Snapshot]:
        conn = sqlite3.connect(self.url.path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN")
            yield _SqliteSnapshot(conn, self.table)
            conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite database unavailable: {error}") from error
        finally:
            conn.close()

    @contextmanager
    def _postgres(self, share: bool, join: str | None) -> Iterator[Snapshot]:
        url = self.url
        try:
            conn = psycopg.connect(
                host=url.host, port=url.port, user=url.user, password=url.password,
                dbname=url.dbname, connect_timeout=5,
                # No JIT: the whole-log queries are simple and a compile costs more than
                # it saves on every range a worker reads.
                options=" ".join(["-c jit=off"] + ([f"-c search_path={url.schema}"]
                                                   if url.schema else [])))
        except psycopg.OperationalError as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error}") from error
        with conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                if join is not None:  # must come first in the transaction
                    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(
                        sql.Literal(join)))
                snapshot = _PgSnapshot(conn, self.table)
                if share:
                    row = conn.execute("SELECT pg_export_snapshot()").fetchone()
                    snapshot.shared = str(row[0]) if row else None
                yield snapshot
