"""The SQS worker against a real moto server queue with a redrive policy and a dead-letter queue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
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
    worker = build_worker(services, wait_seconds=0)
    deadline = time.monotonic() + deadline_s
    while queues.count() and time.monotonic() < deadline:
        if not worker.poll_once().received:
            time.sleep(0.2)


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
    worker = build_worker(worker_services, wait_seconds=0)
    deadline = time.monotonic() + 20
    while queues.count() and time.monotonic() < deadline:
        worker.poll_once()
        time.sleep(0.3)
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
            result = build_worker(built, wait_seconds=2).poll_once()
            # Refused with raw delivery off (left for the redrive policy), then accepted.
            assert (result.deleted, len(result.left)) == ((1, 0) if raw else (0, 1))
            assert built.statuses.status("raw@example.com")["status"] == (
                "bounced" if raw else "ok")
        finally:
            built.close()
        time.sleep(1.1)  # the refused message becomes visible again


def test_two_workers_share_one_queue(database_url: str, queues: Queues, signer: Signer,
                                     moto_endpoint: str) -> None:
    addresses = [f"two{i}@example.com" for i in range(30)]
    for address in addresses:
        queues.send(signer.notification(ses_bounce(address)))
    pool = [build_services(make_settings(database_url, **worker_settings(
        database_url, queues, signer, moto_endpoint))) for _ in range(2)]
    handled = [0, 0]

    def work(index: int) -> None:
        worker = build_worker(pool[index], wait_seconds=0)
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


def _worker_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--wait", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


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
    first = _worker_process(env)
    deadline = time.monotonic() + 30
    while queues.count() > 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()  # SIGKILL mid-run: in-flight messages are neither deleted nor lost
    first.wait()
    assert queues.count() > 0
    second = _worker_process(env)
    deadline = time.monotonic() + 60
    while queues.count() and time.monotonic() < deadline:
        time.sleep(0.2)
    second.send_signal(signal.SIGTERM)  # a clean stop: the batch in flight is finished
    output = second.communicate(timeout=15)[0].decode()
    assert second.returncode == 0, output
    assert "sqs worker stopped" in output
    built = build_services(make_settings(database_url))
    try:
        assert queues.count() == 0
        for address in addresses:
            assert hard_bounces(built, address) == 1, address
            assert built.statuses.status(address)["status"] == "bounced"
    finally:
        built.close()
