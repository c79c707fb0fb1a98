"""The send path's own costs, beside each other: the pre-check of one 50-recipient message
(one batched status lookup) and a whole ``Sending.send`` whose recipients are all blocked
(pre-check + ``SendBlocked`` commit, no SES call), per recipient."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import redis

from adapters.send_validation import MAX_RECIPIENTS, OutgoingMessage
from api.application.sending import BLOCKED
from bench.common import REDIS_URL, database, percentiles, services_on
from domain.reports import Bounce

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def run(kind: str, messages: int) -> dict[str, Any]:
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    cache = {"redis_url": REDIS_URL, "redis_prefix": prefix} if kind == "postgresql" else {}
    with database(kind) as url, services_on(url, **cache) as services:
        addresses = [f"blocked{i}@example.com" for i in range(messages * MAX_RECIPIENTS)]
        for i in range(0, len(addresses), 2000):
            services.ledger.record(*(Bounce(a, f"f{a}", "Permanent", "General", NOW, "bench")
                                     for a in addresses[i:i + 2000]))
        batches = [addresses[i:i + MAX_RECIPIENTS]
                   for i in range(0, len(addresses), MAX_RECIPIENTS)]
        result = {"store": kind, "redis": bool(cache), "recipients_per_message": MAX_RECIPIENTS,
                  "precheck_per_message": _precheck(services, batches),
                  "blocked_send_per_message": _blocked_sends(services, batches)}
    if cache:
        client = redis.Redis.from_url(REDIS_URL)
        for keys in _chunks(list(client.scan_iter(f"{prefix}*")), 1000):
            client.delete(*keys)
    return result


def _precheck(services: Any, batches: list[list[str]]) -> dict[str, Any]:
    samples = [_timed(lambda b=batch: services.statuses.statuses(b)) for batch in batches]
    return {**percentiles(samples), "per_recipient_us": _per_recipient(samples)}


def _blocked_sends(services: Any, batches: list[list[str]]) -> dict[str, Any]:
    sending = services.email()  # never calls SES: every recipient is blocked
    samples = []
    for batch in batches:
        message = OutgoingMessage(from_address="news@example.com", to=batch, subject="bench",
                                  text="x")
        samples.append(_timed(lambda m=message: _all_blocked(sending.send(m, source="cli"))))
    return {**percentiles(samples), "per_recipient_us": _per_recipient(samples)}


def _all_blocked(results: list[Any]) -> None:
    assert all(r.result == BLOCKED for r in results)


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _per_recipient(samples: list[float]) -> float:
    return round(sum(samples) / (len(samples) * MAX_RECIPIENTS) * 1e6, 2)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
