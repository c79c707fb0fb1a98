"""The webhook dispatcher: a thread in ``serve`` and ``worker`` sending due deliveries.

Deliveries are claimed with a lease (``adapters/webhook_outbox.py``) and sent on a small
thread pool, at most ``WEBHOOK_CONCURRENCY`` at a time per endpoint across every process,
each attempt bounded by ``WEBHOOK_TIMEOUT_S``. Ingest never waits for any of this: the
outbox rows are written with the projections and the sending happens here. A failure is
retried after an exponential backoff with jitter (or the receiver's ``Retry-After``, capped:
``application.webhooks.backoff``); after ``WEBHOOK_MAX_ATTEMPTS`` the delivery is failed, and
``WEBHOOK_DISABLE_AFTER`` failed deliveries in a row disable the endpoint (the outbox applies
these rules, ``adapters.webhook_outbox.Retrying``, in the transaction that logs the attempt).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from adapters.background import Loop
from adapters.standard_webhooks import sign_webhook
from adapters.webhook_endpoints import EndpointStore
from adapters.webhook_http import Outcome, WebhookSender
from adapters.webhook_outbox import DELIVERED, FAILED, Claimed, Outbox, Retrying
from api.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_ENABLED, WEBHOOK_PENDING, WEBHOOK_SECONDS
from projections.base import parse_iso

log = logging.getLogger(__name__)


class Dispatcher:
    """Claims due deliveries, signs and posts them, records every attempt."""

    def __init__(self, outbox: Outbox, endpoints: EndpointStore, sender: WebhookSender,
                 rules: Retrying, *, concurrency: int, timeout_s: float, workers: int = 8,
                 poll_s: float = 1.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.outbox, self.endpoints, self.sender, self.rules = outbox, endpoints, sender, rules
        self.concurrency, self.workers, self.poll_s, self.clock = (
            concurrency, workers, poll_s, clock)
        # A lease outlives the slowest attempt (connect, write and read each get the timeout).
        self.lease = timedelta(seconds=3 * timeout_s + 2)
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="webhook")
        self._busy = 0
        self._lock = threading.Lock()
        self._loop = Loop("webhook-dispatcher", self._turn, poll_s)
        self._gauges_at = 0.0

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """New deliveries were committed (or one finished): look again now."""
        self._loop.wake()

    def stop(self) -> None:
        self._loop.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.sender.close()

    def _turn(self) -> float:
        """One round; straight on after claiming, else wait until something is due."""
        claimed = self.dispatch()
        self._refresh_gauges()
        return 0.0 if claimed else self._idle_wait()

    def dispatch(self) -> int:
        """Claim what is due (up to the free threads) and start sending it; returns how many."""
        claimed = 0
        for endpoint_id in self.outbox.due_endpoints(self.clock()):
            free = self._free()
            if free <= 0:
                break
            batch = self.outbox.claim(endpoint_id, now=self.clock(), owner=self.owner,
                                      cap=self.concurrency, lease=self.lease, limit=free)
            for delivery in batch:
                self._take()
                self._pool.submit(self._deliver, delivery)
            claimed += len(batch)
        return claimed

    def _deliver(self, claimed: Claimed) -> None:
        try:
            outcome = self._post(claimed)
            state = self.outbox.finish(claimed, outcome, now=self.clock(), owner=self.owner,
                                       rules=self.rules)
            result = state if state in (DELIVERED, FAILED) else "retry"
            WEBHOOK_ATTEMPTS.labels(claimed.endpoint_id, result).inc()
            WEBHOOK_SECONDS.labels(claimed.endpoint_id).observe(outcome.latency_s)
            if outcome.error:
                log.info("webhook %s to %s: attempt %d: %s", claimed.id, claimed.endpoint_id,
                         claimed.tries + 1, outcome.error)
        except Exception:
            log.exception("webhook %s: attempt not recorded (retried after its lease)",
                          claimed.id)
        finally:
            with self._lock:
                self._busy -= 1
            self._loop.wake()

    def _post(self, claimed: Claimed) -> Outcome:
        timestamp = int(time.time())
        body = claimed.body.encode()
        signature = " ".join(sign_webhook(s, claimed.id, timestamp, body)
                             for s in claimed.secrets)
        return self.sender.post(claimed.url, body, {
            "webhook-id": claimed.id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature})

    def _free(self) -> int:
        with self._lock:
            return self.workers - self._busy

    def _take(self) -> None:
        with self._lock:
            self._busy += 1

    def _idle_wait(self) -> float:
        due = parse_iso(self.outbox.next_due())
        if due is None:
            return self.poll_s
        return min(self.poll_s, max(0.01, (due - self.clock()).total_seconds()))

    def _refresh_gauges(self) -> None:
        if time.monotonic() - self._gauges_at < 5:
            return
        self._gauges_at = time.monotonic()
        pending = self.outbox.pending_counts()
        for endpoint in self.endpoints.all():
            WEBHOOK_PENDING.labels(endpoint.id).set(pending.get(endpoint.id, 0))
            WEBHOOK_ENABLED.labels(endpoint.id).set(1 if endpoint.enabled else 0)
