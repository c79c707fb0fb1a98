"""A server SIGKILLed in the middle of a delivery, then restarted: every event is delivered,
in order per address, and the only duplicates carry the same ``webhook-id`` and body."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.server import free_port
from tests.conftest import ADMIN_TOKEN
from tests.webhook_receiver import Receiver

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@contextmanager
def server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "uvicorn", "api.asgi:app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not become ready")
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def change(base: str, address: str, action: str) -> None:
    response = httpx.post(f"{base}/v1/addresses/{address}/{action}", headers=ADMIN,
                          json={"reason": "test"}, timeout=10)
    assert response.status_code == 200, response.text


def test_a_killed_server_loses_nothing_and_repeats_only_by_id(tmp_path: Path) -> None:
    env = {"BOUNCELEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
           "BOUNCELEDGER_REDIS_URL": "", "BOUNCELEDGER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
           "BOUNCELEDGER_WEBHOOK_TIMEOUT_S": "0.5", "BOUNCELEDGER_WEBHOOK_BACKOFF_S": "0.05",
           "BOUNCELEDGER_WEBHOOK_BACKOFF_CAP_S": "0.2"}
    receiver = Receiver(["hold"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    expected = {"a@example.org": ["address.blocked", "address.unblocked", "address.blocked"],
                "b@example.org": ["address.blocked", "address.unblocked"]}
    try:
        with server(env, port) as first:
            made = httpx.post(f"{base}/v1/webhooks", headers=ADMIN, json={
                "url": receiver.url, "events": ["address.blocked", "address.unblocked"]})
            assert made.status_code == 201, made.text
            change(base, "a@example.org", "suppress")
            assert receiver.holding.wait(10)  # the first delivery is in flight
            for address, action in [("a@example.org", "reset"), ("b@example.org", "suppress"),
                                    ("a@example.org", "suppress"), ("b@example.org", "reset")]:
                change(base, address, action)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        receiver.release()
        with server(env, port):
            receiver.wait_for(lambda got: len({r.id for r in got}) == 5, timeout=30)
    finally:
        receiver.close()
    by_id: dict[str, set[bytes]] = {}
    for got in receiver.received:
        by_id.setdefault(got.id, set()).add(got.body)
    assert len(by_id) == 5 and all(len(bodies) == 1 for bodies in by_id.values())
    held = receiver.received[0].id  # in flight when the server died: sent again, same id
    assert [r.id for r in receiver.received].count(held) == 2
    for address, types in expected.items():
        arrivals = [r.json()["type"] for r in receiver.received
                    if r.json()["data"]["address"] == address]
        assert list(_first_arrivals(receiver, address)) == types, arrivals


def _first_arrivals(receiver: Receiver, address: str) -> Iterator[str]:
    seen: set[str] = set()
    for got in receiver.received:
        if got.json()["data"]["address"] == address and got.id not in seen:
            seen.add(got.id)
            yield got.json()["type"]
