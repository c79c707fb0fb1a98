"""Send path reads on PostgreSQL + Redis: single checks and 10,000-address checks over HTTP,
beside a raw Redis GET loop, a raw MGET and a raw SQL ``= ANY`` on the same data."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import redis

from adapters.sql import DatabaseUrl
from bench.common import BENCH_TOKEN, REDIS_URL, database, percentiles, rate, services_on
from bench.server import running_server
from domain.reports import Bounce, Sent

NOW = datetime(2026, 6, 1, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {BENCH_TOKEN}"}


def _seed(services: Any, count: int) -> list[str]:
    addresses = [f"user{i}@example.com" for i in range(count)]
    reports: list[Any] = [Sent(a, f"m{i}", NOW, "bench") for i, a in enumerate(addresses)]
    reports += [Bounce(a, f"f{i}", "Permanent", "General", NOW, "bench")
                for i, a in enumerate(addresses[::10])]
    for i in range(0, len(reports), 2000):
        services.ledger.record(*reports[i:i + 2000])
    return addresses


def _closed_loop(fn: Any, threads: int, seconds: float) -> tuple[list[float], float]:
    samples: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        local = []
        while time.monotonic() < stop:
            start = time.perf_counter()
            fn()
            local.append(time.perf_counter() - start)
        with lock:
            samples.extend(local)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return samples, time.perf_counter() - started


def run(count: int = 10_000, seconds: float = 5.0) -> dict[str, Any]:
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    with database("postgresql") as url, services_on(url, redis_url=REDIS_URL,
                                                   redis_prefix=prefix) as services:
        addresses = _seed(services, count)
        env = {"BOUNCELEDGER_DATABASE_URL": url, "BOUNCELEDGER_REDIS_URL": REDIS_URL,
               "BOUNCELEDGER_REDIS_PREFIX": prefix, "BOUNCELEDGER_BOOTSTRAP_TOKEN": BENCH_TOKEN}
        with running_server(env) as base:
            single = _single_checks(base, addresses, seconds)
            batch = _batch_checks(base, addresses)
        raw = _raw_limits(url, prefix, addresses, seconds)
        in_process = _in_process(services, addresses)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        for i in range(0, len(keys), 1000):
            client.delete(*keys[i:i + 1000])
    return {"addresses": count, "single_check_http": single, "check_10k_http": batch,
            "raw": raw, "in_process_check": in_process}


def _single_checks(base: str, addresses: list[str], seconds: float) -> dict[str, Any]:
    local = threading.local()

    def one() -> None:
        client = getattr(local, "client", None) or httpx.Client(base_url=base, headers=AUTH)
        local.client = client
        address = addresses[int(time.perf_counter_ns()) % len(addresses)]
        assert client.get(f"/v1/addresses/{address}").status_code == 200

    samples, elapsed = _closed_loop(one, threads=4, seconds=seconds)
    return {"requests_per_s": rate(len(samples), elapsed), "client_threads": 4,
            **percentiles(samples)}


def _batch_checks(base: str, addresses: list[str]) -> dict[str, Any]:
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            response = client.post("/v1/addresses:check", json={"addresses": addresses[:10_000]})
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200
    return percentiles(samples[3:])


def _raw_limits(url: str, prefix: str, addresses: list[str], seconds: float) -> dict[str, Any]:
    client = redis.Redis.from_url(REDIS_URL)
    keys = [f"{prefix}status:{a}" for a in addresses[:10_000]]
    get_samples, elapsed = _closed_loop(lambda: client.get(keys[7]), 1, seconds / 2)
    mget_samples = []
    for _ in range(15):
        start = time.perf_counter()
        client.mget(keys)
        mget_samples.append(time.perf_counter() - start)
    parsed = DatabaseUrl.parse(url)
    with psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.user,
                         dbname=parsed.dbname, options=f"-c search_path={parsed.schema}") as conn:
        sql_samples = []
        for _ in range(15):
            start = time.perf_counter()
            conn.execute("SELECT address, status FROM email_status WHERE address = ANY(%s)",
                         (addresses[:10_000],)).fetchall()
            sql_samples.append(time.perf_counter() - start)
    return {"redis_get_loop": {"per_s": rate(len(get_samples), elapsed),
                               **percentiles(get_samples)},
            "redis_10k_mget": percentiles(mget_samples[3:]),
            "sql_any_10k": percentiles(sql_samples[3:])}


def _in_process(services: Any, addresses: list[str]) -> dict[str, Any]:
    batch = addresses[:10_000]
    services.statuses.check(batch)
    start = time.perf_counter()
    for _ in range(5):
        services.statuses.check(batch)
    per_address = (time.perf_counter() - start) / (5 * len(batch))
    return {"per_address_us": round(per_address * 1e6, 2)}
