"""One small interface over SQLite and PostgreSQL for the projections' tables.

SQL is written once with ``?`` placeholders; PostgreSQL gets them as ``%s``. Write
transactions are serialised where it matters: SQLite by ``BEGIN IMMEDIATE``, PostgreSQL by
``FOR UPDATE`` on the tracking rows (``Database.for_update``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout


class StoreUnavailable(Exception):
    """The database cannot be reached now; callers answer 503 so clients retry."""


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
                    "SQLITE_LOCK_TIMEOUT": "30"}
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host, "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user, "POSTGRES_PASSWORD": self.password,
            "POSTGRES_CONNECT_TIMEOUT": "2", "POSTGRES_POOL_SIZE": "10",
            "APPLICATION_RECORDER_TOPIC": "adapters.postgres:FastFailRecorder",
            "POSTGRES_MAX_OVERFLOW": "10", "POSTGRES_LOCK_TIMEOUT": "10",
            # After an outage the pool holds dead connections; a ping on checkout drops them
            # so the first request after recovery succeeds instead of a burst of 503s.
            "POSTGRES_PRE_PING": "y",
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
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class _PgCursor:
    """Translates ``?`` placeholders for psycopg."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PgCursor:
        self._cursor.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
        return self

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> _PgCursor:
        self._cursor.executemany(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
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
        with cur._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                    f"({', '.join('?' * len(columns))})", rows)


class Database:
    """Transactions on the projections' database; ``StoreUnavailable`` when it is down."""

    dialect: str
    for_update: str

    @contextmanager
    def write(self) -> Iterator[Cursor]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def read(self) -> Iterator[Cursor]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def close(self) -> None:  # pragma: no cover - abstract
        pass

    def checkpoint(self) -> None:
        """Move committed pages out of a write-ahead log and truncate it (SQLite only)."""


class SqliteDatabase(Database):
    """One connection per thread to the same file, WAL mode like the event store."""

    dialect, for_update = "sqlite", ""

    def __init__(self, path: str) -> None:
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
        try:
            yield conn.cursor()
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


class PostgresDatabase(Database):
    """A psycopg 3 pool; the schema (if any) goes on the search path of every connection."""

    dialect, for_update = "postgresql", " FOR UPDATE"

    def __init__(self, url: DatabaseUrl, pool_size: int = 10) -> None:
        options = f"-c search_path={url.schema}" if url.schema else ""
        self._pool = ConnectionPool(
            conninfo="", open=False, min_size=1, max_size=pool_size, timeout=3,
            check=ConnectionPool.check_connection,
            kwargs={"host": url.host, "port": url.port, "user": url.user,
                    "password": url.password, "dbname": url.dbname, "options": options,
                    "connect_timeout": 5, "autocommit": True},
        )
        self._pool.open(wait=False)

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
    def _connection(self, *, transaction: bool) -> Iterator[Cursor]:
        try:
            with self._pool.connection() as conn:
                if transaction:
                    with conn.transaction():
                        yield _PgCursor(conn.cursor())
                else:
                    yield _PgCursor(conn.cursor())
        except (PoolTimeout, psycopg.OperationalError) as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {error}") from error

    def close(self) -> None:
        self._pool.close()


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
