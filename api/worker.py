"""``bounceledger worker``: SES notifications from an SQS queue into the ledger.

The queue is subscribed to the SES topics. Envelopes are verified exactly as on the webhook
(SPEC §6) except that age never drops a message (a queue may hold a 14-day backlog). With
``BOUNCELEDGER_SQS_RAW_DELIVERY`` the subscription's raw message delivery is on and bodies are
bare SES JSON, trusted because only the queue's access policy lets anything in.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.aws import aws_client
from adapters.sns_refusal import SnsRefused
from adapters.sql import StoreUnavailable
from adapters.sqs import Retry, SqsWorker
from api.application.escalation import escalate
from api.application.ingest import Ingest, Outcome
from api.services import Services

log = logging.getLogger(__name__)


def sqs_handler(ingest: Ingest, raw_delivery: bool) -> Callable[[str], Outcome]:
    """The per-message handler: returns after the commit, raises ``Retry`` to leave it."""

    def handle(body: str) -> Outcome:
        try:
            if _is_envelope(body):
                outcome = ingest.handle_sns(body.encode(), None, path="sqs", check_age=False)
            elif raw_delivery:
                outcome = ingest.handle_ses(body, source="sqs")
            else:
                raise Retry("not an SNS envelope: turn BOUNCELEDGER_SQS_RAW_DELIVERY on if the "
                            "subscription uses raw message delivery")
        except SnsRefused as refusal:
            raise Retry(f"refused ({refusal.code}): {refusal.message}") from refusal
        except StoreUnavailable as error:
            raise Retry(f"store unavailable: {error}") from error
        if outcome.outcome == "unreadable":
            raise Retry("unreadable SES message")
        return outcome

    return handle


def _is_envelope(body: str) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and "Type" in data and "Signature" in data


def build_worker(services: Services, wait_seconds: int = 20) -> SqsWorker:
    settings = services.settings
    if not settings.sqs_queue_url:
        raise ValueError("BOUNCELEDGER_SQS_QUEUE_URL is not set")
    # Read timeout above the long-poll wait, or botocore gives up on an idle queue.
    client = aws_client("sqs", settings.aws_region, settings.aws_endpoint_url,
                        read_timeout=wait_seconds + 10)
    return SqsWorker(client, settings.sqs_queue_url,
                     sqs_handler(services.ingest, settings.sqs_raw_delivery),
                     wait_seconds=wait_seconds)


def periodic(every_s: float, job: Callable[[], None]) -> Callable[[], None]:
    """A callable that runs ``job`` at most once per ``every_s`` seconds."""
    last = [0.0]

    def tick() -> None:
        if time.monotonic() - last[0] < every_s:
            return
        last[0] = time.monotonic()
        job()

    return tick


def periodic_escalation(services: Services, every_s: float) -> Callable[[], None]:
    """A callable that runs the escalation job at most once per ``every_s`` seconds."""
    def job() -> None:
        count = escalate(services.ledger, services.db, datetime.now(UTC))
        log.info("periodic escalation: %d address(es) escalated", count)

    return periodic(every_s, job)


def periodic_ses_sync(services: Services, every_s: float) -> Callable[[], None]:
    """The SES suppression sync (push and pull) at most once per ``every_s`` seconds."""
    def job() -> None:
        report = services.ses_sync().run()
        log.info("SES suppression sync: %s", report.as_dict())

    return periodic(every_s, job)


def run_worker(services: Services, stop: threading.Event, *,
               escalate_every_s: float | None = None, ses_sync_every_s: float | None = None,
               wait_seconds: int = 20) -> None:
    worker = build_worker(services, wait_seconds)
    services.start_follower()  # other processes' events, and repairing the Redis mirror
    services.start_dispatcher()  # outgoing webhooks and the SES push
    ticks = [t for t in (
        periodic_escalation(services, escalate_every_s) if escalate_every_s else None,
        periodic_ses_sync(services, ses_sync_every_s) if ses_sync_every_s else None) if t]
    worker.run(stop, _each(ticks) if ticks else None)


def _each(ticks: list[Callable[[], None]]) -> Callable[[], None]:
    def run() -> None:
        for tick in ticks:
            try:
                tick()
            except Exception:
                log.exception("periodic job failed; it runs again at its next turn")

    return run
