"""Group commit: many concurrent requests' reports saved in one transaction.

The event store serialises writers on PostgreSQL (a table lock per insert), so one
transaction per webhook call caps ingest near the database's commit rate. Requests hand
their reports to one committer thread, which gathers whatever arrives within ``window``
seconds (up to ``max_reports``), records it all with one ``Ledger.record`` and only then
releases each waiting request with its own results. Nothing is acknowledged early: a
request that gets no commit gets the error instead.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.sql import StoreUnavailable
from domain.errors import LedgerError
from domain.reports import Report

log = logging.getLogger(__name__)


@dataclass
class _Request:
    reports: Sequence[Report]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[bool] | None = None
    error: BaseException | None = None


class CommitTimeout(StoreUnavailable):
    """The batch did not commit in time; the caller answers 503 so the sender retries."""


class GroupCommitter:
    """``record`` saves; with ``defer``/``notify`` (``Ledger.deferred_notification`` and
    ``Ledger.announce``) the projections' catch-up after a commit runs on a second thread
    while the next batch is saved, and each request is released only after both."""

    def __init__(self, record: Callable[..., list[bool]], window: float = 0.004,
                 max_reports: int = 1000,
                 defer: Callable[[], AbstractContextManager[list[int]]] | None = None,
                 notify: Callable[[int], object] | None = None) -> None:
        self._record, self.window, self.max_reports = record, window, max_reports
        self._defer, self._notify = defer, notify
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._after: queue.Queue[tuple[list[_Request], list[bool], list[int]] | None] = (
            queue.Queue())
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()
        self._finisher = threading.Thread(target=self._finish_loop, name="group-catch-up",
                                          daemon=True)
        self._finisher.start()

    def submit(self, reports: Sequence[Report], timeout: float = 10.0) -> list[bool]:
        """Block until ``reports`` are committed; their results, or the commit's error."""
        if not reports:
            return []
        request = _Request(reports)
        self._queue.put(request)
        if not request.done.wait(timeout):
            raise CommitTimeout("the ledger did not commit in time")
        if request.error is not None:
            raise request.error
        assert request.results is not None
        return request.results

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._after.put(None)
        self._finisher.join(timeout=10)

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            self._commit(self._gather(first))

    def _gather(self, first: _Request) -> list[_Request]:
        batch, size = [first], len(first.reports)
        deadline = time.monotonic() + self.window
        while size < self.max_reports:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            batch.append(item)
            size += len(item.reports)
        return batch

    def _commit(self, batch: list[_Request]) -> None:
        reports = [r for request in batch for r in request.reports]
        try:
            if self._defer is None:
                results, positions = self._record(*reports), []
            else:
                with self._defer() as positions:
                    results = self._record(*reports)
        except (StoreUnavailable, LedgerError, OperationalError, InterfaceError) as error:
            self._fail(batch, error)
            return
        except Exception as error:
            if len(batch) == 1:
                self._fail(batch, error)
                return
            log.warning("group commit of %d requests failed (%s); retrying one by one",
                        len(batch), type(error).__name__)
            for request in batch:
                self._commit([request])
            return
        self._after.put((batch, results, positions))

    def _finish_loop(self) -> None:
        while (item := self._after.get()) is not None:
            batch, results, positions = item
            if positions and self._notify is not None:
                try:
                    self._notify(max(positions))
                except Exception as error:
                    # The events are committed; the sender's retry is a duplicate, and the
                    # follower catches the views up.
                    log.warning("catch-up after a group commit failed: %s", error)
                    self._fail(batch, error)
                    continue
            offset = 0
            for request in batch:
                request.results = results[offset:offset + len(request.reports)]
                offset += len(request.reports)
                request.done.set()

    @staticmethod
    def _fail(batch: list[_Request], error: BaseException) -> None:
        for request in batch:
            request.error = error
            request.done.set()


class DirectCommitter(GroupCommitter):
    """One transaction per request (``BOUNCELEDGER_INGEST_GROUP_COMMIT=false``).

    SQLite allows one writer: with ``serialize`` the requests take turns in the process
    instead of failing on the file lock."""

    def __init__(self, record: Callable[..., list[bool]], serialize: bool = False) -> None:
        self._record = record
        self._lock: threading.Lock | None = threading.Lock() if serialize else None

    def submit(self, reports: Sequence[Report], timeout: float = 10.0) -> list[bool]:
        if not reports:
            return []
        if self._lock is None:
            return self._record(*reports)
        if not self._lock.acquire(timeout=timeout):
            raise CommitTimeout("the ledger did not commit in time")
        try:
            return self._record(*reports)
        finally:
            self._lock.release()

    def close(self) -> None:
        pass
