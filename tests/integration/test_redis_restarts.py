"""The Redis mirror never says "sendable" for a blocked address (our own redis-server).

Redis restarts empty, restarts from an older snapshot, or pauses (SIGSTOP) while bounces are
committed; a checker asks all the time. An address whose hard bounce has committed must never
be answered sendable, whatever Redis holds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib

from api.services import Services, build_services
from domain.reports import Bounce, Sent
from tests.conftest import REQUIRED, make_settings

pytestmark = pytest.mark.redis
NOW = datetime(2026, 5, 1, tzinfo=UTC)
ADDRESSES = [f"r{i}@example.com" for i in range(60)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of the test's own, on a free port, keeping its dump in ``dir``."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.port = directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.dir), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        client = redis_lib.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis_lib.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def save(self) -> None:
        redis_lib.Redis.from_url(self.url).save()

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        message = "redis-server is not installed"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.signal(signal.SIGCONT)
        server.kill()


@pytest.fixture
def mirrored(database_url: str, own_redis: OwnRedis) -> Iterator[Services]:
    built = build_services(make_settings(database_url, redis_url=own_redis.url))
    built.ledger.record(*[Sent(a, f"m-{a}", NOW, "api") for a in ADDRESSES])
    built.start_follower(interval=0.1)
    assert built.mirror is not None and built.mirror.sync() > 0
    yield built
    built.close()


class Checker:
    """Checks every address, all the time, against the bounces committed before each check."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.blocked: set[str] = set()
        self.violations: list[str] = []
        self.checks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def bounce(self, addresses: list[str]) -> None:
        self.services.ledger.record(*[Bounce(a, f"b-{a}", "Permanent", "General", NOW, "sns")
                                      for a in addresses])
        self.blocked.update(addresses)  # committed: from now on never sendable

    def _run(self) -> None:
        while not self._stop.is_set():
            blocked = set(self.blocked)
            for row in self.services.statuses.check(ADDRESSES):
                if row["address"] in blocked and row["sendable"]:
                    self.violations.append(row["address"])
            self.checks += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        assert self.checks > 10, "the checker hardly ran"
        assert self.violations == [], f"answered sendable after a hard bounce: {self.violations}"


def wait_until_trusted(services: Services, timeout: float = 10.0) -> None:
    """The mirror proves itself again (its mark reached the view): checks use Redis."""
    lookup = services.statuses
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(lookup._proven(ADDRESSES)) == len(ADDRESSES):
            return
        assert services.mirror is not None
        services.mirror.sync()
        time.sleep(0.05)
    raise AssertionError("the mirror never became current again")


def test_the_mirror_is_used_while_it_is_current(mirrored: Services) -> None:
    wait_until_trusted(mirrored)
    assert {k.status for k in mirrored.statuses._proven(ADDRESSES).values()} == {"ok"}


def test_redis_restarting_empty_never_unblocks(mirrored: Services, own_redis: OwnRedis) -> None:
    checker = Checker(mirrored)
    checker.bounce(ADDRESSES[:20])
    own_redis.kill()
    checker.bounce(ADDRESSES[20:30])  # Redis is down: these pushes are lost
    own_redis.start()  # empty
    checker.bounce(ADDRESSES[30:40])
    wait_until_trusted(mirrored)
    checker.stop()


def test_redis_restarting_from_an_older_snapshot_never_unblocks(
        mirrored: Services, own_redis: OwnRedis) -> None:
    wait_until_trusted(mirrored)
    assert mirrored.follower is not None
    mirrored.follower.stop()  # no repair until the stale state has been looked at
    own_redis.save()  # every address "ok" in this dump
    checker = Checker(mirrored)
    checker.bounce(ADDRESSES[:30])
    wait_until_trusted(mirrored)
    own_redis.kill()
    own_redis.start()  # loads the older dump: entries and mark from before the bounces
    raw = redis_lib.Redis.from_url(own_redis.url, decode_responses=True).get(
        f"bl:status:{ADDRESSES[0]}") or ""
    assert raw.split(" ")[2] == "ok", raw  # Redis now says "ok" for a bounced address
    time.sleep(0.3)  # the checker asks against the stale mirror meanwhile
    checker.bounce(ADDRESSES[30:40])
    wait_until_trusted(mirrored)
    checker.stop()


def test_redis_pausing_while_bounces_commit_never_unblocks(
        mirrored: Services, own_redis: OwnRedis) -> None:
    wait_until_trusted(mirrored)
    checker = Checker(mirrored)
    own_redis.signal(signal.SIGSTOP)
    try:
        checker.bounce(ADDRESSES[:20])  # pushes time out; they may run when Redis resumes
        time.sleep(1.5)
    finally:
        own_redis.signal(signal.SIGCONT)
    checker.bounce(ADDRESSES[20:30])
    wait_until_trusted(mirrored)
    time.sleep(0.5)
    checker.stop()
