"""Whole-log work over several processes that read one PostgreSQL snapshot.

Decrypting, decoding and folding stored events is per event Python, bound to one core:
one process does a quarter of what PostgreSQL sends (``bench/analytics.py``). The session
that owns the work exports its snapshot (``pg_export_snapshot``); worker processes join it
(``SET TRANSACTION SNAPSHOT``) and each turns one range of the log into finished output,
which the owner writes in order. Every worker sees exactly the log the work began with,
so the result is the one a single process gives (export: byte for byte). At most two
tasks per worker are in flight, so memory stays bounded however long the log is.

Workers are started with ``spawn``: a fresh interpreter, never a fork of this one's
threads and connections. Each builds its own reader once (``reader()``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from eventsourcing.persistence import JSONTranscoder

from adapters.event_log import EventLog
from adapters.shredding import ShreddingMapper, SqlKeyStore
from adapters.sql import open_database
from domain.ledger import register_transcodings
from projections.log_rows import Opener

Task = tuple[Callable[..., Any], tuple[Any, ...]]


def default_workers() -> int:
    """One worker per core, at most four (the database server needs its share)."""
    return max(1, min(4, os.cpu_count() or 1))


# Below this many events, starting the workers (fresh interpreters, 0.3 to 0.75 s each)
# costs more than they save: measured, a 30k-event export with two workers ran at a third
# of one process's rate, at 200k they tie (rebuild: +19 %), at 2M they win 1.4 to 2.2 times
# (bench/analytics.py).
PARALLEL_FROM = 200_000


def shareable(log: EventLog, workers: int) -> bool:
    """Whether this log can be read by several processes (PostgreSQL, more than one)."""
    return workers > 1 and log.url.dialect == "postgresql"


def worth_it(events: int) -> bool:
    """Whether work on this many events is worth starting worker processes for."""
    return events >= PARALLEL_FROM


class WorkerFailed(RuntimeError):
    """A worker process ended without an answer (killed, out of memory): nothing after the
    last range written was written; run the command again (a rebuild resumes)."""


def in_order(log: EventLog, tasks: Sequence[Task], workers: int) -> Iterator[Any]:
    """Each task's result, in the tasks' order, computed in ``workers`` processes; a task's
    own exception is raised here as it was raised there."""
    pool = ProcessPoolExecutor(min(workers, len(tasks)),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(log,))
    waiting: deque[Future[Any]] = deque()
    try:
        for work, args in tasks:
            waiting.append(pool.submit(work, *args))
            if len(waiting) > 2 * workers:
                yield _result(waiting.popleft())
        while waiting:
            yield _result(waiting.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except BrokenProcessPool as error:
        raise WorkerFailed("a worker process ended without finishing its range (killed or "
                           "out of memory); nothing after the last range written was "
                           "written — run it again, or with --workers 1") from error


class Reader:
    """A worker's own access to the log: the rows, and the mapper only for rows stored
    under an older class version (upcasting needs it)."""

    def __init__(self, log: EventLog) -> None:
        transcoder = JSONTranscoder()
        register_transcodings(transcoder)
        keys = SqlKeyStore(open_database(log.url, pool_size=1))
        self.log, self.opener = log, Opener(ShreddingMapper(transcoder, keys))
        self.kept: dict[str, Any] = {}  # what a kind of task keeps between its tasks


_reader: list[Reader] = []


def _start(log: EventLog) -> None:
    _reader.append(Reader(log))


def reader() -> Reader:
    """This worker process's reader."""
    return _reader[0]
