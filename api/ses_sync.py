"""The SES suppression sync, wired: built from the settings, and the pusher thread.

What the sync does is ``application.ses_sync``; here its SES client, rate limit and metrics
are put together, and ``Pusher`` runs its push in ``serve`` and ``worker``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from adapters.ses import ses_client
from adapters.ses_suppression import SuppressionList
from adapters.ses_sync_store import SesSyncStore
from adapters.sql import StoreUnavailable
from api.application.ses_sync import SesSync, SyncReport
from api.metrics import SES_SYNC_CALLS
from domain.ledger import Ledger

log = logging.getLogger(__name__)


def build_ses_sync(ledger: Ledger, store: SesSyncStore, catch_up: Callable[[], object],
                   limiter: Any, *, region: str, endpoint_url: str, push: bool,
                   pull: bool, lease_s: float = 120.0) -> SesSync:
    remote = SuppressionList(ses_client(region, endpoint_url), limiter,
                             observe=lambda op, outcome: SES_SYNC_CALLS.labels(
                                 op, outcome).inc())
    return SesSync(ledger, store, remote, catch_up, push=push, pull=pull,
                   lease=timedelta(seconds=lease_s))


class Pusher:
    """A thread in ``serve`` and ``worker`` pushing as soon as the log asks (and every
    ``interval`` seconds for calls waiting to be retried)."""

    def __init__(self, sync: SesSync, wake: threading.Event, interval: float = 5.0) -> None:
        self.sync, self.interval = sync, interval
        self._wake, self._stop = wake, threading.Event()
        self._thread = threading.Thread(target=self._run, name="ses-push", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync.push(SyncReport())
            except StoreUnavailable as error:
                log.warning("SES push: store unavailable: %s", error)
            except Exception:
                log.exception("SES push failed; retrying")
            self._wake.wait(self.interval)
            self._wake.clear()
