"""Ledger core: command throughput vs a bare INSERT+COMMIT loop; a 10,000-address check."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from adapters.sql import DatabaseUrl
from api.app import create_app
from bench.common import BENCH_TOKEN, database, percentiles, rate, services_on, timed
from domain.reports import Bounce

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _bounce(i: int, prefix: str) -> Bounce:
    return Bounce(f"{prefix}{i}@example.com", f"f-{prefix}{i}", "Permanent", "General", NOW,
                  "bench", diagnostic="smtp; 550 5.1.1 user unknown")


def bare_insert_loop(url: str, count: int) -> float:
    """The raw limit: one small row per transaction, committed, on the same database."""
    parsed = DatabaseUrl.parse(url)
    sql = "INSERT INTO bench_raw (id, payload) VALUES ({0}, {0})"
    if parsed.dialect == "sqlite":
        conn: Any = sqlite3.connect(parsed.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE bench_raw (id TEXT PRIMARY KEY, payload TEXT)")
        mark = "?"
    else:
        conn = psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.user,
                               dbname=parsed.dbname, autocommit=True,
                               options=f"-c search_path={parsed.schema}")
        conn.execute("CREATE TABLE bench_raw (id TEXT PRIMARY KEY, payload TEXT)")
        mark = "%s"
    statement = sql.format(mark)

    def loop() -> None:
        for i in range(count):
            if parsed.dialect == "sqlite":
                conn.execute("BEGIN")
                conn.execute(statement, (f"id{i}", "x" * 300))
                conn.execute("COMMIT")
            else:
                with conn.transaction():
                    conn.execute(statement, (f"id{i}", "x" * 300))

    seconds = timed(loop)
    conn.close()
    return rate(count, seconds)


def command_throughput(kind: str, count: int) -> dict[str, Any]:
    """Record one hard bounce for a fresh address per command (save + projection commit)."""
    with database(kind) as url, services_on(url) as services:
        latencies = []
        for i in range(count):
            start = time.perf_counter()
            services.ledger.record(_bounce(i, "cmd"))
            latencies.append(time.perf_counter() - start)
        ours = rate(count, sum(latencies))
        batch = [_bounce(i, "batch") for i in range(count)]
        batched = rate(count, timed(lambda: services.ledger.record(*batch)))
        raw = bare_insert_loop(url, count)
    return {"database": kind, "commands": count, "commands_per_s": ours,
            **percentiles(latencies), "one_batch_of_all_per_s": batched,
            "bare_insert_commit_per_s": raw,
            "ratio_to_bare_insert": round(ours / raw, 3)}


def check_10k(kind: str) -> dict[str, Any]:
    """POST /v1/addresses:check with 10,000 addresses, 1,000 of them bounced."""
    with database(kind) as url, services_on(url) as services:
        services.ledger.record(*[_bounce(i, "known") for i in range(1000)])
        addresses = [f"known{i}@example.com" for i in range(1000)]
        addresses += [f"fresh{i}@example.com" for i in range(9000)]
        auth = {"Authorization": f"Bearer {BENCH_TOKEN}"}
        with TestClient(create_app(services=services)) as client:
            samples = []
            for _ in range(7):
                start = time.perf_counter()
                response = client.post("/v1/addresses:check", json={"addresses": addresses},
                                       headers=auth)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200
        sql_only = [timed(lambda: services.reader.statuses(addresses)) for _ in range(7)]
    return {"database": kind, "addresses": 10_000, "api_in_process": percentiles(samples),
            "sql_lookup_only": percentiles(sql_only)}
