"""End-to-end SNS ingest through a real uvicorn server: signed notifications, one hard bounce
each, distinct addresses, concurrent clients. Beside it, in the same run: the same server
answering a trivial endpoint, and the same server with group commit off (one library
``save()`` per notification, the naive handler)."""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import BENCH_TOKEN, database, percentiles, rate, services_on
from bench.server import running_server
from tests.sns_signing import TOPIC, Signer, ses_bounce


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
          threads: int = 16) -> dict[str, Any]:
    parts = [bodies[i::processes] for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        started = time.perf_counter()
        results = pool.map(_client, [(base, path, p, threads) for p in parts])
        elapsed = time.perf_counter() - started
    samples = [s for r in results for s in r[0]]
    return {"requests": len(samples), "per_s": rate(len(samples), elapsed),
            "failures": sum(r[2] for r in results), **percentiles(samples)}


def _notifications(signer: Signer, count: int) -> list[bytes]:
    run = uuid.uuid4().hex[:8]
    return [json.dumps(signer.notification(ses_bounce(f"n{i}-{run}@example.com"))).encode()
            for i in range(count)]


def run(kind: str, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        signer = Signer(Path(tmp) / "certs")
        results: dict[str, Any] = {"database": kind, "notifications": count,
                                   "client": "2 processes x 16 threads"}
        for mode, group in (("group_commit", "true"), ("naive_one_save_each", "false")):
            with database(kind) as url:
                env = {"BOUNCELEDGER_DATABASE_URL": url,
                       "BOUNCELEDGER_BOOTSTRAP_TOKEN": BENCH_TOKEN,
                       "BOUNCELEDGER_SNS_TOPIC_ARNS": TOPIC,
                       "BOUNCELEDGER_SNS_CERT_DIR": str(signer.cert_dir),
                       "BOUNCELEDGER_INGEST_GROUP_COMMIT": group}
                with running_server(env) as base:
                    if mode == "group_commit":
                        results["trivial_endpoint"] = _load(base, "/healthz", [b""] * count)
                    results[mode] = _load(base, "/webhooks/ses", _notifications(signer, count))
            with database(kind) as url:
                results["in_process_" + mode] = _in_process(
                    url, signer, group == "true", count)
        results["group_vs_naive"] = round(
            results["group_commit"]["per_s"] / results["naive_one_save_each"]["per_s"], 2)
    return results


def _in_process(url: str, signer: Signer, group: bool, count: int,
                threads: int = 32) -> dict[str, Any]:
    """The ingest core without HTTP: verify + parse + commit, from 32 threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = _notifications(signer, count)
    with services_on(url, sns_topic_arns=TOPIC, sns_cert_dir=str(signer.cert_dir),
                     ingest_group_commit=group) as services:
        def one(body: bytes) -> float:
            start = time.perf_counter()
            services.ingest.handle_sns(body, "Notification")
            return time.perf_counter() - start

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            samples = list(pool.map(one, bodies))
        elapsed = time.perf_counter() - started
        verify_started = time.perf_counter()
        for body in bodies[:200]:
            services.ingest.verifier.verify(body, "Notification")
        verify_us = (time.perf_counter() - verify_started) / 200 * 1e6
    return {"per_s": rate(len(samples), elapsed), "verify_us_per_message": round(verify_us, 1),
            **percentiles(samples)}
