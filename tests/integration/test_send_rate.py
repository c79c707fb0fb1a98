"""The send-rate token bucket: in one process, and shared by two processes through Redis."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from adapters.rate_limit import LocalRateLimiter, RedisRateLimiter, rate_limiter
from tests.proxy import Proxy
from tests.ses_fakes import ScriptedSes, send_from_child


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    value = f"test:{uuid.uuid4().hex[:12]}:"
    yield value
    client = redis_lib.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{value}*"))
    if keys:
        client.delete(*keys)


def busiest_second(arrivals: list[float]) -> int:
    """The most calls inside any one-second window."""
    times = sorted(arrivals)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_local_bucket_spaces_calls_at_the_rate() -> None:
    limiter = LocalRateLimiter(rate=20)
    started = time.monotonic()
    for _ in range(11):
        limiter.acquire()
    assert 0.45 <= time.monotonic() - started < 1.0  # the first is free, then 10 x 50 ms


def test_local_bucket_refills_while_idle() -> None:
    limiter = LocalRateLimiter(rate=10, burst=3)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve() == pytest.approx(0.1, abs=0.01)


def test_without_redis_the_limiter_is_local() -> None:
    assert isinstance(rate_limiter(5, None), LocalRateLimiter)


@pytest.mark.redis
def test_the_redis_bucket_is_one_key_under_the_prefix(redis_url: str, prefix: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    limiter = rate_limiter(10, client, prefix)
    assert isinstance(limiter, RedisRateLimiter)
    waits = [limiter.reserve() for _ in range(3)]
    assert waits[0] == 0.0 and waits[2] == pytest.approx(0.2, abs=0.02)
    assert client.exists(f"{prefix}ses:send-rate") and client.pttl(f"{prefix}ses:send-rate") > 0


@pytest.mark.redis
def test_a_redis_outage_falls_back_to_a_local_bucket(redis_url: str, prefix: str) -> None:
    proxy = Proxy("127.0.0.1", int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    client = redis_lib.Redis(port=proxy.port, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        limiter = RedisRateLimiter(client, 10, prefix)
        limiter.reserve()
        proxy.cut()
        assert limiter.reserve() == 0.0  # no error: the local bucket (full) took the call
        assert limiter.fallback.reserve() == pytest.approx(0.1, abs=0.01)  # and it is spent
    finally:
        proxy.close()


@pytest.mark.redis
def test_two_processes_share_one_rate_through_redis(redis_url: str, prefix: str,
                                                    tmp_path: Path) -> None:
    rate, each = 8, 12
    fake = ScriptedSes()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    children = []
    for name in ("one", "two"):
        settings = {"database_url": f"sqlite:///{tmp_path / name}.db", "redis_url": redis_url,
                    "redis_prefix": prefix, "aws_endpoint_url": fake.endpoint,
                    "ses_max_send_rate": rate}
        recipients = [f"{name}{i}@example.org" for i in range(each)]
        children.append(context.Process(target=send_from_child,
                                        args=(settings, recipients, start)))
    try:
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=90)
        assert [child.exitcode for child in children] == [0, 0]
        assert len(fake.arrivals) == 2 * each
        # Alone, each process would send at ``rate``: together twice that. Shared: ``rate``
        # (+1 for the window's edge, +1 for scheduling jitter).
        assert busiest_second(fake.arrivals) <= rate + 2
        spread = max(fake.arrivals) - min(fake.arrivals)
        assert spread >= (2 * each - 1) / rate * 0.9
    finally:
        fake.close()
        for child in children:
            if child.is_alive():
                child.kill()
