"""One small interface over SQLite and PostgreSQL for the projections' tables.

SQL handed to a ``Cursor`` is written once, for both, with ``?`` placeholders (the DB-API
``qmark`` style, SQLite's own). psycopg wants ``%s`` and reads every other ``%`` as the start
of one, so ``qmark_to_format`` translates each statement by SQL's own lexical rules: a ``?``
inside a string, a quoted name or a comment is text and stays text, and every ``%`` is text.
Write transactions are serialised where it matters: SQLite by ``BEGIN IMMEDIATE``,
PostgreSQL by ``FOR UPDATE`` on the tracking rows (``Database.for_update``).
"""

from __future__ import annotations

import re
import select
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg.pq import TransactionStatus

from domain.errors import ExpectedError


class StoreUnavailable(ExpectedError):
    """The database cannot be reached now: 503 so clients retry. The answer says only
    that; the cause (``str(error)``) is for the logs and the CLI."""

    status, code = 503, "store_unavailable"
    headers = MappingProxyType({"Retry-After": "5"})

    def __init__(self, cause: str = "") -> None:
        super().__init__(cause)
        self.message = "the store is unavailable; retry later"


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed ``BOUNCELEDGER_DATABASE_URL``."""

    dialect: str
    path: str = ""
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            path = unquote(url.split("://", 1)[1].removeprefix("/"))
            if not path or ":memory:" in path:
                raise ValueError("sqlite needs a file: sqlite:///./bounceledger.db")
            return cls("sqlite", path=path)
        if parts.scheme in ("postgresql", "postgres"):
            query = parse_qs(parts.query)
            return cls(
                "postgresql", host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                dbname=parts.path.lstrip("/") or "postgres",
                schema=query.get("schema", [""])[0],
            )
        raise ValueError(
            f"unsupported database URL scheme {parts.scheme!r}: use sqlite or postgresql")

    def eventsourcing_env(self) -> dict[str, str]:
        """The library's settings for the same database (events live beside the views)."""
        if self.dialect == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": self.path,
                    "SQLITE_LOCK_TIMEOUT": "30", "IS_SNAPSHOTTING_ENABLED": "y"}
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host, "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user, "POSTGRES_PASSWORD": self.password,
            "POSTGRES_CONNECT_TIMEOUT": "2", "POSTGRES_POOL_SIZE": "10",
            "APPLICATION_RECORDER_TOPIC": "adapters.postgres:FastFailRecorder",
            "POSTGRES_MAX_OVERFLOW": "10", "POSTGRES_LOCK_TIMEOUT": "10",
            # Snapshots of the address aggregate (``<name>_snapshots``): the write path loads
            # a snapshot and the few events after it (``projections.pipeline``).
            "IS_SNAPSHOTTING_ENABLED": "y",
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env

    def redacted(self) -> str:
        """The URL without its password, for logs."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.path}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


class Cursor(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Counter:
    """Statements sent to the server (``BEGIN``/``COMMIT`` included; ``executemany`` counts
    one per row): what the round-trip test and the ingest bench report."""

    def __init__(self) -> None:
        self.statements = 0

    def add(self, n: int = 1) -> None:
        self.statements += n


class _SqliteCursor:
    """The sqlite3 cursor, with its dialect and the statement counter."""

    dialect = "sqlite"

    def __init__(self, cursor: sqlite3.Cursor, counter: Counter) -> None:
        self._cursor, self._counter = cursor, counter

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _SqliteCursor:
        self._counter.add()
        self._cursor.execute(sql, params)
        return self

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> _SqliteCursor:
        self._counter.add(len(params))
        self._cursor.executemany(sql, params)
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()


# What the translation must see whole: quoted text and comments (where ``?`` is a
# character), and a ``?`` anywhere else (a placeholder).
_SQL_TOKENS = re.compile(r"""
      '(?:[^']|'')*'                                 # a string ('' is a quote in it)
    | (?<![\w$])[eE]'(?:[^'\\]|\\.|'')*'            # an escape string (E'it\'s')
    | "(?:[^"]|"")*"                                 # a quoted name
    | \$(?P<tag>(?:[^\W\d]\w*)?)\$.*?\$(?P=tag)\$      # a dollar-quoted string
    | --[^\n]*                                       # a comment to the end of the line
    | /\*.*?\*/                                      # a comment (not nested)
    | \?
""", re.VERBOSE | re.DOTALL)


@lru_cache(maxsize=2048)
def qmark_to_format(sql: str) -> str:
    """``sql`` for psycopg: each ``?`` placeholder as ``%s``, and every ``%`` as ``%%`` —
    psycopg does not read SQL's quotes, so a ``%`` in a string is doubled too (it gives the
    server ``%`` back). A ``?`` in a string, a quoted name or a comment stays as it is;
    anywhere else it is a placeholder, so PostgreSQL's ``jsonb ? key`` operators must be
    written as their functions (``jsonb_exists``)."""
    return _SQL_TOKENS.sub(_placeholder, sql.replace("%", "%%"))


def _placeholder(match: re.Match[str]) -> str:
    return "%s" if match.group() == "?" else match.group()


class _PgCursor:
    """Translates ``?`` placeholders for psycopg (``qmark_to_format``), counts statements."""

    dialect = "postgresql"

    def __init__(self, cursor: psycopg.Cursor[Any], counter: Counter) -> None:
        self._cursor, self._counter = cursor, counter

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PgCursor:
        self._counter.add()
        self._cursor.execute(qmark_to_format(sql), params)  # type: ignore[arg-type]
        return self

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> _PgCursor:
        self._counter.add(len(params))
        self._cursor.executemany(qmark_to_format(sql), params)  # type: ignore[arg-type]
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()


def copy_rows(cur: Cursor, table: str, columns: Sequence[str],
              rows: Sequence[Sequence[Any]]) -> None:
    """Many rows into a table at once: ``COPY … FROM STDIN`` on PostgreSQL (several times
    faster than an ``INSERT`` per row), one ``executemany`` on SQLite."""
    if not rows:
        return
    if isinstance(cur, _PgCursor):
        cur._counter.add()
        with cur._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                    f"({', '.join('?' * len(columns))})", rows)


class CommitUncertain(StoreUnavailable):
    """The connection broke while ``COMMIT`` was in flight: the transaction may or may not
    have committed. The caller finds out by reading (``projections.pipeline``)."""


class Database:
    """Transactions on the projections' database; ``StoreUnavailable`` when it is down."""

    dialect: str
    for_update: str

    def __init__(self) -> None:
        self.counter = Counter()

    @contextmanager
    def write(self) -> Iterator[Cursor]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def read(self) -> Iterator[Cursor]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Writes in this thread use one connection of their own (the group committer)."""
        yield

    def close(self) -> None:  # pragma: no cover - abstract
        pass

    def checkpoint(self) -> None:
        """Move committed pages out of a write-ahead log and truncate it (SQLite only)."""


class SqliteDatabase(Database):
    """One connection per thread to the same file, WAL mode like the event store."""

    dialect, for_update = "sqlite", ""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows (an erased address's status, profiles, keys) are overwritten with
            # zeros instead of lingering in free pages.
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
            self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        with self._transaction("BEGIN IMMEDIATE") as cursor:
            yield cursor

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        with self._transaction("BEGIN") as cursor:
            yield cursor

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Cursor]:
        try:
            conn = self._connection()
            conn.execute(begin)
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite database unavailable: {error}") from error
        self.counter.add(2)
        try:
            yield _SqliteCursor(conn.cursor(), self.counter)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def checkpoint(self) -> None:
        try:
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite checkpoint failed: {error}") from error

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._local = threading.local()


class PoolTimeout(Exception):
    """Every connection of the pool stayed in use for the whole wait."""


class ConnectionPool:
    """A small pool of psycopg connections that recovers at once after an outage.

    Why not ``psycopg_pool``: after a failed connection attempt it backs off (1 s, 2 s, 4 s…)
    and delays checkouts by the same policy, so requests kept failing for seconds after
    PostgreSQL was back. Here a checkout takes the most recently used idle connection that
    still looks alive (``check_idle``: a ``select`` on its socket, not a ping) or opens a new
    one right away; a broken or old connection is simply closed."""

    def __init__(self, kwargs: dict[str, Any], size: int, timeout: float = 3.0,
                 max_age_s: float = 1800.0) -> None:
        self._kwargs, self.timeout, self.max_age_s = kwargs, timeout, max_age_s
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[tuple[psycopg.Connection[Any], float]] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._slots.acquire(timeout=self.timeout):
            raise PoolTimeout(f"no connection free after {self.timeout:.1f} s")
        conn: psycopg.Connection[Any] | None = None
        born = time.monotonic()
        try:
            conn, born = self._take()
            yield conn
        finally:
            if conn is not None:
                self._give_back(conn, born)
            self._slots.release()

    def _take(self) -> tuple[psycopg.Connection[Any], float]:
        while True:
            with self._lock:
                found = self._idle.pop() if self._idle else None
            if found is None:
                return psycopg.connect(**self._kwargs), time.monotonic()
            if _idle_alive(found[0]):
                return found
            found[0].close()

    def _give_back(self, conn: psycopg.Connection[Any], born: float) -> None:
        healthy = (not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
                   and time.monotonic() - born < self.max_age_s)
        if not healthy:
            conn.close()
            return
        with self._lock:
            self._idle.append((conn, born))

    def check(self) -> None:
        """Close every idle connection that no longer looks alive."""
        with self._lock:
            idle, self._idle = self._idle, []
        alive = []
        for conn, born in idle:
            if _idle_alive(conn):
                alive.append((conn, born))
            else:
                conn.close()
        with self._lock:
            self._idle += alive

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()


class PostgresDatabase(Database):
    """A small pool of psycopg 3 connections; the schema (if any) goes on the search path.

    Connections are not pinged on checkout (a round trip per transaction): an idle one whose
    socket shows the server went away is dropped for free, one that breaks in use is closed,
    and the others are checked at once. A pinned thread (the group committer) keeps one
    connection of its own. So work resumes within a fraction of a second of the database
    accepting connections again."""

    dialect, for_update = "postgresql", " FOR UPDATE"

    def __init__(self, url: DatabaseUrl, pool_size: int = 10) -> None:
        super().__init__()
        options = "-c lock_timeout=10s"
        if url.schema:
            options += f" -c search_path={url.schema}"
        self._kwargs: dict[str, Any] = {
            "host": url.host, "port": url.port, "user": url.user, "password": url.password,
            "dbname": url.dbname, "options": options, "connect_timeout": 2,
            "autocommit": True}
        self._pool = ConnectionPool(self._kwargs, pool_size)
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        with self._connection(transaction=True) as cursor:
            yield cursor

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """Autocommit: a one-statement read is one round trip (no BEGIN/COMMIT)."""
        with self._connection(transaction=False) as cursor:
            yield cursor

    @contextmanager
    def pinned(self) -> Iterator[None]:
        self._local.pinned, self._local.conn = True, None
        try:
            yield
        finally:
            conn = getattr(self._local, "conn", None)
            self._local.pinned, self._local.conn = False, None
            if conn is not None:
                conn.close()

    @contextmanager
    def _connection(self, *, transaction: bool) -> Iterator[Cursor]:
        try:
            with self._checkout() as conn:
                if not transaction:
                    yield _PgCursor(conn.cursor(), self.counter)
                    return
                tx = conn.transaction()
                tx.__enter__()
                self.counter.add(2)
                try:
                    yield _PgCursor(conn.cursor(), self.counter)
                except BaseException as error:
                    tx.__exit__(type(error), error, error.__traceback__)
                    raise
                try:
                    tx.__exit__(None, None, None)
                except psycopg.OperationalError as error:
                    self._broken(conn)
                    raise CommitUncertain(f"PostgreSQL connection lost at commit: {error}") \
                        from error
        except (PoolTimeout, psycopg.OperationalError) as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error}") from error

    @contextmanager
    def _checkout(self) -> Iterator[psycopg.Connection[Any]]:
        if getattr(self._local, "pinned", False):
            conn = self._local.conn
            if conn is not None and not _idle_alive(conn):
                self._broken(conn)
                conn = None
            if conn is None:
                conn = self._local.conn = psycopg.connect(**self._kwargs)
            try:
                yield conn
            except psycopg.OperationalError:
                self._broken(conn)
                raise
            return
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.OperationalError:
            self._pool.check()  # the others were opened before the same outage
            raise

    def _broken(self, conn: psycopg.Connection[Any]) -> None:
        if getattr(self._local, "pinned", False) and getattr(self._local, "conn", None) is conn:
            self._local.conn = None
            conn.close()

    def close(self) -> None:
        self._pool.close()


def _idle_alive(conn: psycopg.Connection[Any]) -> bool:
    """Whether an idle connection still looks usable, without a round trip: a server that
    shut down (or a network that broke) leaves the idle socket readable (an error message or
    end of file), where a healthy idle connection has nothing to read."""
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return False
    return not readable


@contextmanager
def schema_lock(url: DatabaseUrl) -> Iterator[None]:
    """Serialise table creation across processes starting at once.

    Concurrent ``CREATE … IF NOT EXISTS`` on PostgreSQL can fail with "tuple concurrently
    updated"; an advisory lock held on its own connection makes the starters take turns.
    SQLite needs nothing: its writers already take turns on the file lock."""
    if url.dialect != "postgresql":
        yield
        return
    options = f"-c search_path={url.schema}" if url.schema else ""
    try:
        conn = psycopg.connect(host=url.host, port=url.port, user=url.user,
                               password=url.password, dbname=url.dbname, options=options,
                               connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as error:
        raise StoreUnavailable(f"PostgreSQL unavailable: {error}") from error
    with conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('bounceledger schema'))")
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('bounceledger schema'))")


def open_database(url: DatabaseUrl, pool_size: int = 10) -> Database:
    """The projections' database for a parsed URL."""
    if url.dialect == "sqlite":
        return SqliteDatabase(url.path)
    return PostgresDatabase(url, pool_size)
