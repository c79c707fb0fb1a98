"""The SQS ingestion loop: long-poll a queue, hand each body to a handler, delete on success.

A message is deleted only after its handler returned, i.e. after its events are committed.
Anything else — a refused signature, a store outage, a crash — leaves it in the queue: it
becomes visible again after the visibility timeout and, after ``maxReceiveCount`` receives,
the queue's redrive policy moves it to the dead-letter queue. Duplicates are the ledger's
business (it stores each fact once), so at-least-once delivery is enough.

The messages of one batch are handled concurrently so that the group committer stores them
in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

log = logging.getLogger(__name__)

SQS_MESSAGES = Counter(
    "bounceledger_sqs_messages_total",
    "SQS messages by result: deleted (handled), left (failed; retried, then dead-lettered)",
    ["result"],
)


class Retry(Exception):
    """The handler could not handle the message now; leave it in the queue."""


@dataclass
class BatchResult:
    received: int = 0
    deleted: int = 0
    left: list[str] = field(default_factory=list)


class SqsWorker:
    """Long-polls ``queue_url`` and hands every body to ``handle`` (which raises to refuse)."""

    def __init__(self, client: Any, queue_url: str, handle: Callable[[str], object], *,
                 wait_seconds: int = 20, batch_size: int = 10) -> None:
        self.client, self.queue_url, self.handle = client, queue_url, handle
        self.wait_seconds, self.batch_size = wait_seconds, batch_size
        self._pool = ThreadPoolExecutor(batch_size, thread_name_prefix="sqs-message")

    def poll_once(self) -> BatchResult:
        """One receive, handle, delete round; returns what happened."""
        response = self.client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds, AttributeNames=["ApproximateReceiveCount"])
        messages = response.get("Messages", [])
        result = BatchResult(received=len(messages))
        if not messages:
            return result
        outcomes = list(self._pool.map(self._handle_one, messages))
        done = [m for m, ok in zip(messages, outcomes, strict=True) if ok]
        result.left = [m["MessageId"] for m, ok in zip(messages, outcomes, strict=True) if not ok]
        if done:
            result.deleted = self._delete(done)
        SQS_MESSAGES.labels("deleted").inc(result.deleted)
        SQS_MESSAGES.labels("left").inc(len(result.left))
        log.info("sqs batch: received %d, deleted %d, left %d", result.received,
                 result.deleted, len(result.left))
        return result

    def _handle_one(self, message: dict[str, Any]) -> bool:
        receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
        try:
            self.handle(message["Body"])
            return True
        except Retry as error:
            log.warning("sqs message %s left in the queue (receive %s): %s",
                        message["MessageId"], receives, error)
        except Exception:  # a bug must not kill the worker or lose the message
            log.exception("sqs message %s left in the queue (receive %s)",
                          message["MessageId"], receives)
        return False

    def _delete(self, messages: list[dict[str, Any]]) -> int:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                   for i, m in enumerate(messages)]
        response = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for failure in response.get("Failed", []):
            # Redelivered later and recognised as a duplicate: nothing is lost or doubled.
            log.warning("could not delete sqs message %s: %s", failure.get("Id"),
                        failure.get("Message"))
        return len(response.get("Successful", []))

    def run(self, stop: threading.Event, every: Callable[[], object] | None = None) -> None:
        """Poll until ``stop`` is set; the batch in flight is finished first.

        ``every`` runs between batches (the periodic escalation); its failure is logged."""
        log.info("sqs worker polling %s", self.queue_url)
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # SQS unreachable: wait and poll again
                log.exception("sqs receive failed; retrying in 5 s")
                stop.wait(5)
            if every is not None and not stop.is_set():
                try:
                    every()
                except Exception:
                    log.exception("periodic job failed")
        self._pool.shutdown(wait=True)
        log.info("sqs worker stopped")
