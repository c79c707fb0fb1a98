"""Outgoing webhooks: what the outbox view costs ingest, and how fast deliveries go out.

- ``view_cost``: record batches of a realistic mix of reports (sends, deliveries, soft and
  hard bounces) with the ``webhooks`` view and two subscribed endpoints, and again on a fresh
  database with the view taken out of the projector: the raw limit is the same pipeline
  without the view, in the same run.
- ``delivery_rate``: N status changes delivered by the dispatcher (signing, leases, attempt
  log) to a local receiver, against the raw limit of posting the same N bodies to the same
  receiver with plain httpx on the same number of threads.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.common import database, rate, services_on
from domain.notifications import EVENT_TYPES
from domain.reports import Bounce, Delivery, Report, Sent
from tests.webhook_receiver import Receiver

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _mix(start: int, count: int) -> list[Report]:
    reports: list[Report] = []
    for i in range(start, start + count):
        address, kind = f"user{i}@example.com", i % 20
        if kind < 14:
            reports.append(Sent(address, f"m{i}", NOW, "bench", sender="shop.example"))
        elif kind < 18:
            reports.append(Delivery(address, f"m{i}", NOW, "bench", sender="shop.example"))
        elif kind == 18:
            reports.append(Bounce(address, f"s{i}", "Transient", "General", NOW, "bench",
                                  diagnostic="smtp; 452 4.2.2 mailbox full"))
        else:
            reports.append(Bounce(address, f"h{i}", "Permanent", "General", NOW, "bench",
                                  diagnostic="smtp; 550 5.1.1 user unknown"))
    return reports


def _ingest(kind: str, count: int, *, with_view: bool) -> float:
    with database(kind) as url, services_on(url) as services:
        assert services.webhooks is not None
        for _ in range(2):
            services.webhooks.add("http://127.0.0.1:9/hooks", EVENT_TYPES, actor="bench")
        if not with_view:
            services.projector.views = [v for v in services.projector.views
                                        if v.name != "webhooks"]
        started = time.perf_counter()
        for start in range(0, count, 100):
            services.ledger.record(*_mix(start, 100))
        return rate(count, time.perf_counter() - started)


def view_cost(kind: str, count: int) -> dict[str, Any]:
    without = _ingest(kind, count, with_view=False)
    with_view = _ingest(kind, count, with_view=True)
    return {"database": kind, "reports": count, "batch": 100,
            "reports_per_s_with_webhooks_view": with_view,
            "reports_per_s_without_it_raw_limit": without,
            "ratio": round(with_view / without, 3)}


def delivery_rate(kind: str, count: int) -> dict[str, Any]:
    receiver = Receiver()
    try:
        with database(kind) as url, services_on(url, webhook_concurrency=4) as services:
            assert services.webhooks is not None
            services.webhooks.add(receiver.url, ["address.blocked"], actor="bench")
            services.ledger.record(*[Bounce(f"b{i}@example.com", f"h{i}", "Permanent",
                                            "General", NOW, "bench") for i in range(count)])
            started = time.perf_counter()
            services.start_dispatcher()
            receiver.wait_count(count, timeout=600)
            ours = rate(count, time.perf_counter() - started)
            bodies = [r.body for r in receiver.received]
        raw = _raw_posts(receiver.url, bodies, threads=4)
    finally:
        receiver.close()
    return {"database": kind, "deliveries": count, "endpoint_concurrency": 4,
            "deliveries_per_s": ours, "plain_httpx_posts_per_s_raw_limit": raw,
            "ratio": round(ours / raw, 3)}


def _raw_posts(url: str, bodies: list[bytes], threads: int) -> float:
    clients = [httpx.Client() for _ in range(threads)]

    def post(i: int) -> None:
        clients[i % threads].post(url, content=bodies[i],
                                  headers={"content-type": "application/json"})

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(len(bodies))))
    seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return rate(len(bodies), seconds)


def run(count: int) -> list[dict[str, Any]]:
    kinds = ("sqlite", "postgresql")
    return ([view_cost(k, 10 * count) for k in kinds]
            + [delivery_rate(k, count) for k in kinds])
