"""What one more write costs as an address's history grows (10, 1,000, 10,000 events).

Three shapes of history. ``daily``: a send and a delivery a day, for as many days as it takes
(10,000 events is 14 years of daily mail) — how addresses age in real use. ``burst``: sends
and deliveries all recorded the same day — the worst case: every report key is inside the
15-day window (``domain.seen``) and every delivery inside the status policy's 28 days.
``sends``: only sends, all the same day (a history made through ``messages:record``). The
history is seeded with the library's clock moved by hand, then each timed write is one
``record()`` (one transaction) of one send, like the API's ``messages:record``. Beside it, the
same run's bare INSERT+COMMIT loop.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing import domain as es_domain

from bench.common import database, percentiles, services_on
from bench.ledger import bare_insert_loop
from domain.reports import Delivery, Sent

SIZES = (10, 1000, 10_000)


@contextmanager
def recorded_at(start: datetime, step: timedelta) -> Iterator[None]:
    """Events recorded meanwhile get times ``start``, ``start + step``, …"""
    original = es_domain.datetime_now_with_tzinfo
    clock = [start]

    def now() -> datetime:
        clock[0] += step
        return clock[0]

    es_domain.datetime_now_with_tzinfo = now  # type: ignore[assignment]
    try:
        yield
    finally:
        es_domain.datetime_now_with_tzinfo = original  # type: ignore[assignment]


def _seed(services: Any, address: str, events: int, shape: str) -> None:
    step = timedelta(hours=12) if shape == "daily" else timedelta(seconds=1)
    only_sends = shape == "sends"
    start = datetime.now(UTC) - step * (events + 10)
    with recorded_at(start, step):
        for first in range(0, events - 1, 200):
            reports: list[Sent | Delivery] = []
            for i in range(first, min(events - 1, first + 200)):
                at = start + step * i
                reports.append(Sent(address, f"m{i}", at, "bench") if i % 2 == 0 or only_sends
                               else Delivery(address, f"m{i - 1}", at, "bench"))
            services.ledger.record(*reports)


def _time_writes(services: Any, address: str, writes: int) -> dict[str, Any]:
    samples, statements = [], services.db.counter.statements
    for i in range(writes):
        started = time.perf_counter()
        services.ledger.record(Sent(address, f"more-{i}", datetime.now(UTC), "bench"))
        samples.append(time.perf_counter() - started)
    return {**percentiles(samples), "mean_ms": round(statistics.fmean(samples) * 1000, 3),
            "statements_per_write": round(
                (services.db.counter.statements - statements) / writes, 1)}


def run(kind: str, writes: int = 60) -> dict[str, Any]:
    results: dict[str, Any] = {"database": kind, "writes_per_size": writes}
    with database(kind) as url, services_on(url) as services:
        for shape in ("daily", "burst", "sends"):
            for size in SIZES:
                address = f"{shape}-{size}@example.com"
                _seed(services, address, size, shape)
                results[f"{shape}_{size}"] = _time_writes(services, address, writes)
            base = results[f"{shape}_{SIZES[0]}"]["mean_ms"]
            results[f"{shape}_ratio_10000_to_10"] = round(
                results[f"{shape}_{SIZES[-1]}"]["mean_ms"] / base, 2)
        raw = bare_insert_loop(url, 500)
    results["bare_insert_commit_per_s"] = raw
    results["one_write_per_s_daily_10000"] = round(
        1000 / results["daily_10000"]["mean_ms"], 1)
    results["ratio_to_bare_insert"] = round(results["one_write_per_s_daily_10000"] / raw, 3)
    return results
