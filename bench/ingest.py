"""End-to-end SNS ingest through a real uvicorn server: signed notifications, one report
each, 16 keep-alive clients (2 processes x 8 threads). Beside it, in the same run and on the
same server: the trivial endpoint (``/healthz``, the HTTP ceiling of these cores), and the
same load under the pure-Python HTTP stack (h11 + asyncio) and under ``uvicorn[standard]``
(httptools + uvloop). Two shapes of traffic: fresh addresses, and repeat recipients whose
histories are already long. In process (no HTTP), 16 threads: the rate and the SQL
statements per notification. The naive handler (one transaction per notification) is run
once for comparison."""

from __future__ import annotations

import json
import multiprocessing
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import BENCH_TOKEN, database, percentiles, rate, services_on
from bench.server import running_server
from domain.reports import Delivery, Sent
from tests.sns_signing import TOPIC, Signer, ses_bounce

STACKS = {"h11_asyncio": ["--http", "h11", "--loop", "asyncio"],
          "httptools_uvloop": ["--http", "httptools", "--loop", "uvloop"]}
REPEAT_ADDRESSES, REPEAT_HISTORY = 100, 400


def _client(args: tuple[str, str, list[bytes], int]) -> tuple[list[float], float, int]:
    import threading

    base, path, bodies, threads = args
    samples: list[float] = []
    failures = 0
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def worker(chunk: list[bytes]) -> None:
        nonlocal failures
        local, bad = [], 0
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Content-Type": "text/plain"}) as client:
            for body in chunk:
                start = time.perf_counter()
                response = (client.post(path, content=body) if body else client.get(path))
                local.append(time.perf_counter() - start)
                bad += response.status_code != 200
        with lock:
            samples.extend(local)
            failures += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return samples, time.perf_counter() - started, failures


def _load(base: str, path: str, bodies: list[bytes], processes: int = 2,
          threads: int = 8) -> dict[str, Any]:
    parts = [bodies[i::processes] for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        started = time.perf_counter()
        results = pool.map(_client, [(base, path, p, threads) for p in parts])
        elapsed = time.perf_counter() - started
    samples = [s for r in results for s in r[0]]
    return {"requests": len(samples), "per_s": rate(len(samples), elapsed),
            "failures": sum(r[2] for r in results), **percentiles(samples)}


def _fresh(signer: Signer, count: int) -> list[bytes]:
    run = uuid.uuid4().hex[:8]
    return [json.dumps(signer.notification(ses_bounce(f"n{i}-{run}@example.com"))).encode()
            for i in range(count)]


def _repeat(signer: Signer, count: int) -> list[bytes]:
    """Soft bounces for the seeded addresses (each already has a long history)."""
    rnd = random.Random(7)
    return [json.dumps(signer.notification(ses_bounce(
        f"repeat{rnd.randrange(REPEAT_ADDRESSES)}@example.com", bounce_type="Transient"))
    ).encode() for _ in range(count)]


def _seed_repeat(url: str) -> None:
    """``REPEAT_ADDRESSES`` addresses with ``REPEAT_HISTORY`` events each."""
    now = time.time()
    with services_on(url) as services:
        for a in range(REPEAT_ADDRESSES):
            address = f"repeat{a}@example.com"
            reports: list[Sent | Delivery] = []
            for i in range(REPEAT_HISTORY):
                at = _at(now - (REPEAT_HISTORY - i) * 3600)
                reports.append(Sent(address, f"m{a}-{i}", at, "bench") if i % 2 == 0
                               else Delivery(address, f"m{a}-{i - 1}", at, "bench"))
            services.ledger.record(*reports)


def _at(epoch: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)


def _env(url: str, signer: Signer, group: bool = True) -> dict[str, str]:
    return {"BOUNCELEDGER_DATABASE_URL": url, "BOUNCELEDGER_BOOTSTRAP_TOKEN": BENCH_TOKEN,
            "BOUNCELEDGER_SNS_TOPIC_ARNS": TOPIC,
            "BOUNCELEDGER_SNS_CERT_DIR": str(signer.cert_dir),
            "BOUNCELEDGER_INGEST_GROUP_COMMIT": "true" if group else "false"}


def run(kind: str, count: int) -> dict[str, Any]:
    results: dict[str, Any] = {"database": kind, "notifications": count,
                               "client": "16 keep-alive clients (2 processes x 8 threads)"}
    with tempfile.TemporaryDirectory() as tmp:
        signer = Signer(Path(tmp) / "certs")
        for stack, args in STACKS.items():
            with database(kind) as url:
                _seed_repeat(url)
                with running_server(_env(url, signer), args=args) as base:
                    trivial = _load(base, "/healthz", [b""] * count)
                    fresh = _load(base, "/webhooks/ses", _fresh(signer, count))
                    repeat = _load(base, "/webhooks/ses", _repeat(signer, count))
            results[stack] = {
                "trivial_endpoint": trivial, "webhook_fresh": fresh, "webhook_repeat": repeat,
                "fresh_to_trivial": round(fresh["per_s"] / trivial["per_s"], 2),
                "repeat_to_trivial": round(repeat["per_s"] / trivial["per_s"], 2)}
        with database(kind) as url, running_server(_env(url, signer, group=False),
                                                   args=STACKS["httptools_uvloop"]) as base:
            results["naive_one_transaction_each"] = _load(base, "/webhooks/ses",
                                                          _fresh(signer, count))
        with database(kind) as url:
            results["in_process"] = _in_process(url, signer, count)
    return results


def _in_process(url: str, signer: Signer, count: int, threads: int = 16) -> dict[str, Any]:
    """The ingest core without HTTP (verify, parse, group commit) from 16 threads; with the
    SQL statements it sent per notification."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = _fresh(signer, count)
    with services_on(url, sns_topic_arns=TOPIC, sns_cert_dir=str(signer.cert_dir)) as services:
        def one(body: bytes) -> float:
            start = time.perf_counter()
            services.ingest.handle_sns(body, "Notification")
            return time.perf_counter() - start

        statements = services.db.counter.statements
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            samples = list(pool.map(one, bodies))
        elapsed = time.perf_counter() - started
        per_notification = (services.db.counter.statements - statements) / count
        verify_started = time.perf_counter()
        for body in bodies[:200]:
            services.ingest.verifier.verify(body, "Notification")
        verify_us = (time.perf_counter() - verify_started) / 200 * 1e6
    return {"per_s": rate(len(samples), elapsed),
            "statements_per_notification": round(per_notification, 2),
            "verify_us_per_message": round(verify_us, 1), **percentiles(samples)}
