"""Running the SES suppression sync (SPEC §12): push what the log decided, pull what SES has.

``SesSync.push`` sends the pending outbox calls in log order and records each answer on the
address's history; ``SesSync.pull`` lists SES's entries since the last run (``StartDate``),
page by page, importing each page before saving the next token. Both are safe to run from
several processes: push calls are leased, the pull is leased as a whole. The decisions of
the sync live here (an erased address is cancelled, a failed call waits longer each time,
the next pull starts a clock margin early); ``api.ses_sync`` builds it from the settings and
runs the pusher thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.ses_suppression import SesSyncError, SuppressionList
from adapters.ses_sync_store import PushCall, SesSyncStore
from adapters.sql import StoreUnavailable
from adapters.suppression_files import Entry, ses_entries
from domain.ledger import Ledger
from domain.notifications import PUT
from domain.suppression_sync import Acknowledged, import_listed, record_acknowledged
from projections.base import iso, parse_iso

log = logging.getLogger(__name__)
# SES's StartDate is compared with its own clock: the next run starts a little earlier than
# this one did, and re-listed entries change nothing (an import is once per reason).
CLOCK_MARGIN = timedelta(minutes=5)
MAX_PUSH_ATTEMPTS = 20


@dataclass
class SyncReport:
    pushed: int = 0
    push_errors: int = 0
    pages: int = 0
    imported: int = 0
    skipped: int = 0
    bad: int = 0
    pull_busy: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class SesSync:
    """Push and pull; ``catch_up`` brings the views (and so the outbox) up to date first."""

    def __init__(self, ledger: Ledger, store: SesSyncStore, remote: SuppressionList,
                 catch_up: Callable[[], object], *, push: bool, pull: bool,
                 lease: timedelta = timedelta(minutes=2),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ledger, self.store, self.remote, self.catch_up = ledger, store, remote, catch_up
        self.push_enabled, self.pull_enabled, self.clock = push, pull, clock
        self.lease = lease
        self.owner = uuid.uuid4().hex[:12]

    def run(self, report: SyncReport | None = None) -> SyncReport:
        """One pass: push everything due, then pull since the last run (as configured)."""
        report = report or SyncReport()
        if self.push_enabled:
            self.push(report)
        if self.pull_enabled:
            self.pull(report)
        return report

    def push(self, report: SyncReport) -> None:
        self.catch_up()
        while calls := self.store.claim(now=self.clock(), owner=self.owner,
                                        lease=self.lease, limit=1):
            for call in calls:
                self._push_one(call, report)

    def _push_one(self, call: PushCall, report: SyncReport) -> None:
        if call.address is None:
            self.store.cancel(call.id, "the address was erased", self.clock())
            return
        try:
            found = True
            if call.action == PUT:
                self.remote.put(call.address, call.reason or "BOUNCE")
            else:
                found = self.remote.delete(call.address)
        except SesSyncError as error:
            report.push_errors += 1
            log.warning("SES sync: %s %s failed: %s", call.action, call.id, error)
            retry = timedelta(seconds=min(3600, 30 * 2 ** call.attempts))
            self.store.postpone(call, str(error), now=self.clock(), retry_in=retry,
                                max_attempts=MAX_PUSH_ATTEMPTS)
            return
        acknowledged = Acknowledged(call.address, call.id, call.action, call.cause,
                                    self.clock(), call.reason, found)
        if not record_acknowledged(self.ledger, acknowledged):
            self.store.cancel(call.id, "the address was erased", self.clock())
        report.pushed += 1

    def pull(self, report: SyncReport) -> None:
        state = self.store.lease_pull(now=self.clock(), owner=self.owner,
                                      lease=timedelta(minutes=10))
        if state is None:
            report.pull_busy = True
            return
        if state["run_started_at"] is None:
            state.update(run_started_at=iso(self.clock()), next_token=None, pages=0,
                         imported=0, skipped=0, bad=0)
            self.store.save_pull(self.owner, **{k: state[k] for k in (
                "run_started_at", "next_token", "pages", "imported", "skipped", "bad")})
        try:
            self._pages(state, report)
        except (SesSyncError, StoreUnavailable) as error:
            self.store.save_pull(self.owner, last_error=str(error)[:500],
                                 last_error_at=iso(self.clock()), lease_until=None)
            raise

    def _pages(self, state: dict[str, Any], report: SyncReport) -> None:
        since, token = parse_iso(state["since"]), state["next_token"]
        while True:
            page = self.remote.page(since, token)
            items = list(ses_entries(page.summaries))
            entries = [(i.address, i.reason) for i in items if isinstance(i, Entry)]
            imported = sum(import_listed(self.ledger, entries, occurred_at=self.clock())
                           ) if entries else 0
            counts = {"pages": 1, "imported": imported, "skipped": len(entries) - imported,
                      "bad": len(items) - len(entries)}
            for name, value in counts.items():
                state[name] = int(state[name] or 0) + value
                setattr(report, name, getattr(report, name) + value)
            token = page.next_token
            self.store.save_pull(self.owner, next_token=token, **{k: state[k] for k in counts},
                                 lease_until=iso(self.clock() + timedelta(minutes=10)))
            if token is None:
                break
        started = parse_iso(state["run_started_at"]) or self.clock()
        self.store.save_pull(self.owner, since=iso(started - CLOCK_MARGIN), run_started_at=None,
                             last_finished_at=iso(self.clock()), last_error=None,
                             lease_until=None)

    def state(self) -> dict[str, Any]:
        """For the console: the mode, the push outbox and the pull's progress."""
        return {"push": self.push_enabled, "pull": self.pull_enabled,
                "push_outbox": self.store.push_summary(), "pull_state": self.store.pull_state()}
