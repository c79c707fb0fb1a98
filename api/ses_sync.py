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

from adapters.background import Loop
from adapters.ses import ses_client
from adapters.ses_suppression import SuppressionList
from adapters.ses_sync_store import SesSyncStore
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
        self.sync = sync
        self._loop = Loop("ses-push", self._turn, interval, wake=wake)

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        self._loop.wake()

    def stop(self) -> None:
        self._loop.stop()

    def _turn(self) -> None:
        self.sync.push(SyncReport())
