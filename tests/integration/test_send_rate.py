"""The send-rate token bucket: in one process, and shared by two processes through Redis.

The local bucket runs on a ``ManualClock``: time moves only when the limiter sleeps or the
test says so, so its waits are exact whatever the machine is doing. The shared bucket keeps
Redis's own clock (that is its point); its tests measure against the time that really went by.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
import redis as redis_lib

from adapters.rate_limit import LocalRateLimiter, RedisRateLimiter, rate_limiter
from tests.proxy import Proxy
from tests.ses_fakes import ScriptedSes, send_from_child


class ManualClock:
    """Monotonic seconds that move only when the limiter sleeps or the test advances them."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def busiest_second(arrivals: list[float]) -> int:
    """The most calls inside any one-second window."""
    times = sorted(arrivals)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_local_bucket_spaces_calls_at_the_rate() -> None:
    clock = ManualClock()
    limiter = LocalRateLimiter(rate=20, sleep=clock.sleep, clock=clock)
    waits = [limiter.acquire() for _ in range(11)]
    assert waits[0] == 0.0  # the first is free, then one every 50 ms
    assert clock.slept == pytest.approx([0.05] * 10)
    assert clock.now - 1000.0 == pytest.approx(0.5)


def test_callers_at_the_same_moment_queue_in_order() -> None:
    limiter = LocalRateLimiter(rate=10, clock=ManualClock())
    assert [limiter.reserve() for _ in range(4)] == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_local_bucket_refills_while_idle_up_to_its_burst() -> None:
    clock = ManualClock()
    limiter = LocalRateLimiter(rate=10, burst=3, clock=clock)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve() == pytest.approx(0.1)
    clock.now += 60  # a long idle refills three tokens, not six hundred
    assert [limiter.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_without_redis_the_limiter_is_local() -> None:
    assert isinstance(rate_limiter(5, None), LocalRateLimiter)


@pytest.mark.redis
def test_the_redis_bucket_is_one_key_under_the_prefix(redis_url: str, prefix: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    limiter = rate_limiter(10, client, prefix)
    assert isinstance(limiter, RedisRateLimiter)
    started = time.monotonic()
    waits = [limiter.reserve() for _ in range(3)]
    went_by = time.monotonic() - started  # Redis's clock ran on meanwhile: less to wait
    assert waits[0] == 0.0
    assert 0.2 - went_by - 0.005 <= waits[2] <= 0.2 + 0.005
    assert client.exists(f"{prefix}ses:send-rate") and client.pttl(f"{prefix}ses:send-rate") > 0


@pytest.mark.redis
def test_a_redis_outage_falls_back_to_a_local_bucket(redis_url: str, prefix: str) -> None:
    proxy = Proxy("127.0.0.1", int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    client = redis_lib.Redis(port=proxy.port, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        limiter = RedisRateLimiter(client, 10, prefix, clock=ManualClock())
        limiter.reserve()
        proxy.cut()
        assert limiter.reserve() == 0.0  # no error: the local bucket (full) took the call
        assert limiter.fallback.reserve() == pytest.approx(0.1)  # and it is spent
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
