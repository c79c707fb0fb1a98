"""Group commit: many concurrent requests' reports saved in one transaction.

Requests hand their work to one committer thread, which gathers whatever arrives within
``window`` seconds (up to ``max_reports``), looks up every SES message of the batch in the
message map at once, records all the reports with one ``Ledger.record`` (one transaction:
events, views and tracking together, ``projections.pipeline``) and only then releases each
waiting request with its own results. Nothing is acknowledged early: a request that gets no
commit gets the error instead.

The committer keeps a database connection of its own (``pin``), so after a database restart
it reconnects at once instead of waiting for a pool's back-off.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.ses_events import MessageInfo, SesPayloadError
from adapters.sql import StoreUnavailable
from domain.reports import Report

log = logging.getLogger(__name__)

Lookup = Callable[[Collection[str]], dict[str, MessageInfo]]


class Pending(Protocol):
    """Reports that need the message map first (an SES notification, ``application.ingest``)."""

    @property
    def message_id(self) -> str | None: ...
    def reports(self, info: MessageInfo | None) -> Sequence[Report]: ...


@dataclass
class _Request:
    work: Sequence[Report] | Pending
    done: threading.Event = field(default_factory=threading.Event)
    reports: Sequence[Report] = ()
    results: list[bool] | None = None
    error: BaseException | None = None


class CommitTimeout(StoreUnavailable):
    """The batch did not commit in time; the caller answers 503 so the sender retries."""


class GroupCommitter:
    """``record`` stores reports in one transaction; ``lookup`` finds many messages at once;
    ``pin`` keeps the committer thread on a connection of its own."""

    def __init__(self, record: Callable[..., list[bool]], window: float = 0.004,
                 max_reports: int = 1000, lookup: Lookup | None = None,
                 pin: Callable[[], AbstractContextManager[None]] | None = None) -> None:
        self._record, self.window, self.max_reports = record, window, max_reports
        self._lookup, self._pin = lookup, pin or nullcontext
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, work: Sequence[Report] | Pending, timeout: float = 10.0) -> list[bool]:
        """Block until the reports are committed; their results, or the commit's error."""
        if isinstance(work, Sequence) and not work:
            return []
        request = _Request(work)
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

    def _run(self) -> None:
        with self._pin():
            while (first := self._queue.get()) is not None:
                self._commit(self._resolve(self._gather(first)))

    def _gather(self, first: _Request) -> list[_Request]:
        batch, size = [first], _size(first)
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
            size += _size(item)
        return batch

    def _resolve(self, batch: list[_Request]) -> list[_Request]:
        """Build each request's reports, with one message-map lookup for the whole batch."""
        ids = {r.work.message_id for r in batch
               if not isinstance(r.work, Sequence) and r.work.message_id is not None}
        try:
            infos = self._lookup(ids) if ids and self._lookup is not None else {}
        except (StoreUnavailable, OperationalError, InterfaceError) as error:
            self._fail(batch, error)
            return []
        ready = []
        for request in batch:
            if isinstance(request.work, Sequence):
                request.reports = request.work
            else:
                try:
                    message_id = request.work.message_id
                    request.reports = request.work.reports(
                        infos.get(message_id) if message_id else None)
                except SesPayloadError as error:
                    self._fail([request], error)
                    continue
            if request.reports:
                ready.append(request)
            else:
                request.results = []
                request.done.set()
        return ready

    def _commit(self, batch: list[_Request]) -> None:
        if not batch:
            return
        reports = [r for request in batch for r in request.reports]
        try:
            results = self._record(*reports)
        except (StoreUnavailable, OperationalError, InterfaceError) as error:
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


def _size(request: _Request) -> int:
    return len(request.work) if isinstance(request.work, Sequence) else 1


class DirectCommitter(GroupCommitter):
    """One transaction per request (``BOUNCELEDGER_INGEST_GROUP_COMMIT=false``).

    SQLite allows one writer: with ``serialize`` the requests take turns in the process
    instead of failing on the file lock."""

    def __init__(self, record: Callable[..., list[bool]], lookup: Lookup | None = None,
                 serialize: bool = False) -> None:
        self._record, self._lookup = record, lookup
        self._lock: threading.Lock | None = threading.Lock() if serialize else None

    def submit(self, work: Sequence[Report] | Pending, timeout: float = 10.0) -> list[bool]:
        request = _Request(work)
        ready = self._resolve([request])
        if request.error is not None:
            raise request.error
        if not ready:
            return request.results or []
        if self._lock is None:
            return self._record(*request.reports)
        if not self._lock.acquire(timeout=timeout):
            raise CommitTimeout("the ledger did not commit in time")
        try:
            return self._record(*request.reports)
        finally:
            self._lock.release()

    def close(self) -> None:
        pass
