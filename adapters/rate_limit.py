"""Token buckets for ``BOUNCELEDGER_SES_MAX_SEND_RATE``: in one process, or shared through Redis.

``acquire`` reserves the next free slot and sleeps until it: the bucket may go negative, so
callers queue in the order they asked and nobody spins. With Redis the bucket lives in one key
and a Lua script updates it atomically with Redis's own clock, so any number of processes on any
number of hosts share one rate without trusting each other's clocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)

# KEYS[1] the bucket; ARGV rate per second, burst. Returns the seconds to wait (as a string:
# Lua numbers become integers on the way out).
_RESERVE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
local wait = 0
if tokens < 0 then wait = -tokens / rate end
redis.call('PEXPIRE', KEYS[1], math.ceil((wait + burst / rate) * 1000) + 1000)
return tostring(wait)
"""


class RateLimiter(Protocol):
    def acquire(self) -> float:
        """Block until one more call may go out; returns the seconds waited."""
        ...


class LocalRateLimiter:
    """A token bucket in this process (the default without Redis); ``clock`` (monotonic
    seconds) and ``sleep`` are the real ones unless a test gives its own."""

    def __init__(self, rate: float, burst: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst, self._sleep, self._clock = rate, burst, sleep, clock
        self._tokens, self._at = burst, clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token now (possibly going negative); returns the seconds until it is ours."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate) - 1
            self._at = now
            return max(0.0, -self._tokens / self.rate)

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class RedisRateLimiter:
    """One bucket shared by every process using the same Redis and ``prefix``.

    When Redis fails the limiter falls back to a local bucket at the same rate (logged): a send
    is not refused because the cache is down; SES's own throttling, retried, is the backstop.
    The shared bucket keeps Redis's time; ``clock`` is only the fallback's.
    """

    def __init__(self, client: redis.Redis, rate: float, prefix: str = "bl:",
                 burst: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 name: str = "send-rate", clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.rate, self.burst, self._sleep = client, rate, burst, sleep
        self.key = f"{prefix}ses:{name}"
        self._reserve = client.register_script(_RESERVE)
        self.fallback = LocalRateLimiter(rate, burst, sleep, clock)
        self._warned_at = 0.0

    def reserve(self) -> float:
        try:
            return float(_text(self._reserve(keys=[self.key], args=[self.rate, self.burst])))
        except redis.RedisError as error:
            self._warn(error)
            return self.fallback.reserve()

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 30:
            self._warned_at = now
            log.warning("shared send rate unavailable (%s); limiting this process alone",
                        type(error).__name__)


def rate_limiter(rate: float, client: redis.Redis | None, prefix: str = "bl:",
                 name: str = "send-rate") -> RateLimiter:
    """Redis-shared when a Redis client is configured, else in-process; ``name`` picks the
    bucket (``send-rate`` for SendEmail, ``suppression-rate`` for the list sync)."""
    if client is None:
        return LocalRateLimiter(rate)
    return RedisRateLimiter(client, rate, prefix, name=name)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
