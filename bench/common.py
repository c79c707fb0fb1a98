"""Shared pieces of the benchmarks: databases to run on, timing, percentiles."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from api.services import Services, build_services
from api.settings import Settings

POSTGRES_URL = os.environ.get("BOUNCELEDGER_BENCH_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BOUNCELEDGER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_TOKEN = "bl_bench-admin-Qm2VxR9kLp4sTz8WcN1bYh6JdF3gK0eUoA5iX"


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh database URL of ``kind`` (a temp SQLite file or a throwaway PG schema)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    schema = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{POSTGRES_URL}?schema={schema}"
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def services_on(url: str, **settings: Any) -> Iterator[Services]:
    built = build_services(Settings(database_url=url, bootstrap_token=BENCH_TOKEN,  # type: ignore[arg-type]
                                    **settings))
    try:
        yield built
    finally:
        built.close()


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else float("inf")


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentiles(samples_s: list[float]) -> dict[str, float]:
    ordered = sorted(samples_s)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(pick(0.99), 3)}
