"""The SQS worker against a real moto server queue with a redrive policy and a dead-letter queue.

Nothing here sleeps to let time pass: the worker long-polls, so SQS itself holds each poll
until a message is visible (a message left for a retry comes back after the 1-second
visibility timeout), and a worker process is followed by the log lines it writes.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.aws import aws_client
from api.services import Services, build_services
from api.worker import build_worker
from tests.conftest import make_settings
from tests.sns_signing import TOPIC, Signer, ses_bounce

MAX_RECEIVES = 2


class Queues:
    """A fresh queue with a dead-letter queue behind it (``maxReceiveCount`` = 2)."""

    def __init__(self, endpoint: str, visibility: int = 1) -> None:
        self.sqs = aws_client("sqs", "us-east-1", endpoint)
        name = "feedback-" + uuid.uuid4().hex[:8]
        self.dlq_url = self.sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.url = self.sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": str(MAX_RECEIVES)}),
        })["QueueUrl"]

    def send(self, body: str | dict[str, Any]) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.sqs.send_message(QueueUrl=self.url, MessageBody=text)

    def count(self, url: str | None = None) -> int:
        """Messages in the queue, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        return sum(int(v) for v in attributes["Attributes"].values())

    def dead_letters(self) -> list[str]:
        response = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in response.get("Messages", [])]


@pytest.fixture
def queues(moto_endpoint: str) -> Queues:
    return Queues(moto_endpoint)


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path / "certs")


def worker_settings(database_url: str, queues: Queues, signer: Signer, endpoint: str,
                    **overrides: object) -> dict[str, object]:
    return {"sqs_queue_url": queues.url, "aws_endpoint_url": endpoint,
            "sns_topic_arns": TOPIC, "sns_cert_dir": str(signer.cert_dir), **overrides}


@pytest.fixture
def worker_services(database_url: str, queues: Queues, signer: Signer,
                    moto_endpoint: str) -> Iterator[Services]:
    built = build_services(make_settings(
        database_url, **worker_settings(database_url, queues, signer, moto_endpoint)))
    yield built
    built.close()


def hard_bounces(services: Services, address: str) -> int:
    return sum(type(e).__name__ == "HardBounced" for e in services.ledger.history(address))


def drain(services: Services, queues: Queues, deadline_s: float = 20) -> None:
    """Run the worker until the queue is empty; each poll waits in SQS for a visible message."""
    worker = build_worker(services, wait_seconds=1)
    deadline = time.monotonic() + deadline_s
    while queues.count():
        assert time.monotonic() < deadline, f"{queues.count()} message(s) still queued"
        worker.poll_once()


def test_messages_are_recorded_then_deleted_and_duplicates_stored_once(
        worker_services: Services, queues: Queues, signer: Signer) -> None:
    addresses = [f"q{i}@example.com" for i in range(12)]
    envelopes = [signer.notification(ses_bounce(a)) for a in addresses]
    for envelope in envelopes + envelopes[:3]:  # SNS delivered three of them twice
        queues.send(envelope)
    drain(worker_services, queues)
    assert queues.count() == 0
    for address in addresses:
        assert worker_services.statuses.status(address)["status"] == "bounced"
        assert hard_bounces(worker_services, address) == 1


def test_age_never_drops_a_queued_message(worker_services: Services, queues: Queues,
                                          signer: Signer) -> None:
    old = datetime.now(UTC) - timedelta(days=10)
    queues.send(signer.notification(ses_bounce("old@example.com", when=old), timestamp=old))
    drain(worker_services, queues)
    assert worker_services.statuses.status("old@example.com")["status"] == "bounced"


def test_a_poison_message_ends_in_the_dead_letter_queue(
        worker_services: Services, queues: Queues, signer: Signer) -> None:
    forged = signer.notification(ses_bounce("forged@example.com"))
    forged["Message"] = forged["Message"].replace("forged@", "victim@")
    queues.send(forged)
    queues.send("not json at all")
    queues.send(signer.notification(ses_bounce("good@example.com")))
    drain(worker_services, queues)  # refused twice each, then moved by the redrive policy
    assert queues.count() == 0
    dead = []
    while batch := queues.dead_letters():
        dead += batch
    assert sorted(dead) == sorted([json.dumps(forged), "not json at all"])
    assert worker_services.statuses.status("good@example.com")["status"] == "bounced"
    for address in ("forged@example.com", "victim@example.com"):
        assert worker_services.statuses.status(address)["status"] == "ok"


def test_bare_ses_json_needs_raw_delivery_on(database_url: str, queues: Queues,
                                             signer: Signer, moto_endpoint: str) -> None:
    queues.send(json.dumps(ses_bounce("raw@example.com")))
    for raw in (False, True):
        built = build_services(make_settings(database_url, **worker_settings(
            database_url, queues, signer, moto_endpoint, sqs_raw_delivery=raw)))
        try:
            # The long poll also waits out the visibility timeout of the first refusal.
            result = build_worker(built, wait_seconds=3).poll_once()
            # Refused with raw delivery off (left for the redrive policy), then accepted.
            assert (result.deleted, len(result.left)) == ((1, 0) if raw else (0, 1))
            assert built.statuses.status("raw@example.com")["status"] == (
                "bounced" if raw else "ok")
        finally:
            built.close()


def test_two_workers_share_one_queue(database_url: str, queues: Queues, signer: Signer,
                                     moto_endpoint: str) -> None:
    addresses = [f"two{i}@example.com" for i in range(30)]
    for address in addresses:
        queues.send(signer.notification(ses_bounce(address)))
    pool = [build_services(make_settings(database_url, **worker_settings(
        database_url, queues, signer, moto_endpoint))) for _ in range(2)]
    handled = [0, 0]

    def work(index: int) -> None:
        worker = build_worker(pool[index], wait_seconds=1)
        deadline = time.monotonic() + 30
        while queues.count() and time.monotonic() < deadline:
            handled[index] += worker.poll_once().deleted

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert queues.count() == 0
        assert all(handled), handled  # both took part
        for address in addresses:
            assert hard_bounces(pool[0], address) == 1
    finally:
        for built in pool:
            built.close()


class WorkerProcess:
    """``bounceledger worker`` in a process of its own; its log lines are read as it writes
    them, and ``wait_for`` judges a condition again after each one."""

    DELETED = re.compile(r"sqs batch: received \d+, deleted (\d+)")

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "--wait", "1"], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {what} within {timeout} s:\n{self.log()}") from None
            if line is None:
                raise AssertionError(f"the worker exited before {what}:\n{self.log()}")
            self.output.append(line)

    def deleted(self) -> int:
        """Messages this worker has deleted so far, by its own log."""
        return sum(int(m.group(1)) for m in map(self.DELETED.search, self.output) if m)

    def finish(self, timeout: float) -> str:
        """Wait for the process to end; everything it wrote."""
        self.process.wait(timeout=timeout)
        while (line := self._lines.get(timeout=timeout)) is not None:
            self.output.append(line)
        return self.log()

    def log(self) -> str:
        return "".join(self.output)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_killed_worker_loses_and_duplicates_nothing(
        database_url: str, queues: Queues, signer: Signer, moto_endpoint: str) -> None:
    addresses = [f"kill{i}@example.com" for i in range(60)]
    for address in addresses:
        queues.send(signer.notification(ses_bounce(address)))
    env = {**os.environ, "BOUNCELEDGER_DATABASE_URL": database_url,
           "BOUNCELEDGER_SQS_QUEUE_URL": queues.url,
           "BOUNCELEDGER_AWS_ENDPOINT_URL": moto_endpoint,
           "BOUNCELEDGER_SNS_TOPIC_ARNS": TOPIC,
           "BOUNCELEDGER_SNS_CERT_DIR": str(signer.cert_dir)}
    first = WorkerProcess(env)
    first.wait_for(lambda: first.deleted() >= 20, 30, "20 messages deleted")
    first.process.kill()  # SIGKILL mid-run: in-flight messages are neither deleted nor lost
    first.finish(timeout=15)
    assert queues.count() > 0
    second = WorkerProcess(env)
    # Judged after each line the worker logs: its last batch's line follows the last delete.
    second.wait_for(lambda: queues.count() == 0, 60, "empty queue")
    second.process.send_signal(signal.SIGTERM)  # a clean stop: the batch in flight is finished
    output = second.finish(timeout=15)
    assert second.process.returncode == 0, output
    assert "sqs worker stopped" in output
    built = build_services(make_settings(database_url))
    try:
        assert queues.count() == 0
        for address in addresses:
            assert hard_bounces(built, address) == 1, address
            assert built.statuses.status(address)["status"] == "bounced"
    finally:
        built.close()
