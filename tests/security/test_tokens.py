"""Issue 13 items 4, 5 and 10 on both stores: a revoked token is refused at once in every
process (a real CLI process revokes it), a new one works at once, wrong bearer tokens are
throttled per client, and a bootstrap token must be as strong as a generated one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import HTTPConnection

from api.app import BEARER_FAILURES, create_app
from api.services import Services, build_services
from api.settings import Settings
from api.throttle import FailureThrottle, client_key
from tests.conftest import ADMIN_TOKEN, make_settings


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``bounceledger ARGS`` in a process of its own, on the same database."""
    env = {**os.environ, "BOUNCELEDGER_DATABASE_URL": database_url, "BOUNCELEDGER_REDIS_URL": "",
           "BOUNCELEDGER_BOOTSTRAP_TOKEN": ADMIN_TOKEN}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


@pytest.fixture
def app_client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as client:
        yield client


def test_a_token_revoked_by_another_process_is_refused_at_once(
        app_client: TestClient, services: Services, database_url: str) -> None:
    token = services.tokens.create("app", "viewer")
    assert app_client.get("/v1/addresses", headers=auth(token)).status_code == 200
    revoked = cli(database_url, "tokens", "revoke", "app")
    assert revoked.returncode == 0, revoked.stderr
    assert app_client.get("/v1/addresses", headers=auth(token)).status_code == 401


def test_a_token_created_by_another_process_works_at_once(
        app_client: TestClient, database_url: str) -> None:
    token = "bl_" + "late-token-Qm2VxR9kLp4sTz8WcN1bYh6JdF3gK0eUoA5iX"
    assert app_client.get("/v1/addresses", headers=auth(token)).status_code == 401
    other = build_services(make_settings(database_url))  # another process's connections
    try:
        other.tokens.create("late", "viewer", token=token)
    finally:
        other.close()
    assert app_client.get("/v1/addresses", headers=auth(token)).status_code == 200


def test_wrong_bearer_tokens_are_throttled_per_client(services: Services) -> None:
    app = create_app(services=services)
    with TestClient(app, client=("192.0.2.1", 1000)) as guesser, \
            TestClient(app, client=("192.0.2.2", 1000)) as bystander:
        answers = [guesser.get("/v1/tokens", headers=auth(f"bl_guess{n}")).status_code
                   for n in range(BEARER_FAILURES + 1)]
        assert answers == [401] * BEARER_FAILURES + [429]
        blocked = guesser.get("/v1/tokens", headers=auth(ADMIN_TOKEN))
        assert blocked.status_code == 429 and blocked.json()["error"]["code"] == \
            "too_many_requests"
        assert "retry-after" in blocked.headers
        assert bystander.get("/v1/tokens", headers=auth(ADMIN_TOKEN)).status_code == 200


def test_a_success_does_not_reset_the_count() -> None:
    throttle = FailureThrottle(limit=3, window_s=60, clock=lambda: 0.0)
    for _ in range(3):
        throttle.failed("c")
    assert throttle.blocked("c") and not throttle.blocked("other")


def test_the_throttle_forgets_old_failures_and_bounds_its_memory() -> None:
    now = [0.0]
    throttle = FailureThrottle(limit=2, window_s=60, clock=lambda: now[0], max_clients=100)
    throttle.failed("c")
    throttle.failed("c")
    assert throttle.blocked("c")
    now[0] = 61.0
    assert not throttle.blocked("c")
    for n in range(1000):
        throttle.failed(f"sweep-{n}")
    assert len(throttle._failures) <= 100


@pytest.mark.parametrize(("host", "key"), [
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"), ("192.0.2.7", "192.0.2.7"), ("testclient", "testclient"),
])
def test_ipv6_clients_count_per_64(host: str, key: str) -> None:
    connection = HTTPConnection({"type": "http", "client": (host, 1), "headers": []})
    assert client_key(connection) == key


WEAK = ["test-admin-token", "x" * 64, "bl_" + "a" * 60, "bl_short", "0123456789" * 5,
        "correct horse battery staple with spaces in it please ok",
        "bl_jriDzezjfCL_D8JTJKBbOYtYfcDP3j2DhW78rnX3kT",  # one character short of 256 bits
        "caf\u00e9" * 20]
STRONG = ["bl_jriDzezjfCL_D8JTJKBbOYtYfcDP3j2DhW78rnX3kT0",  # as `tokens create` makes them
          "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",  # rand -hex 32
          "q8Xw3Zr9Lk2Vm7Tn4Bp6Yc1Hs5Fd0Gj8Ke3Ua9Wi2Oo7=",  # openssl rand -base64 32
          ADMIN_TOKEN]


@pytest.mark.parametrize("token", WEAK)
def test_a_weak_bootstrap_token_stops_the_service_without_printing_it(token: str) -> None:
    with pytest.raises(ValueError, match="BOOTSTRAP_TOKEN is too weak") as info:
        Settings(bootstrap_token=token)  # type: ignore[arg-type]
    assert token not in str(info.value)


@pytest.mark.parametrize("token", STRONG)
def test_a_strong_bootstrap_token_is_accepted(token: str) -> None:
    assert Settings(bootstrap_token=token).bootstrap_token.get_secret_value() == token  # type: ignore[arg-type]


def test_the_cli_refuses_a_weak_bootstrap_token_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "tokens", "list"], text=True, capture_output=True,
        env={**os.environ, "BOUNCELEDGER_BOOTSTRAP_TOKEN": "hunter2-is-my-token",
             "BOUNCELEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/l.db"}, check=False)
    assert result.returncode == 2
    assert "BOOTSTRAP_TOKEN is too weak" in result.stderr and "hunter2" not in result.stderr
