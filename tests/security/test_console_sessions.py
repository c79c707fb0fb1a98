"""Issue 13 item 3 on both stores: console sessions are rows in the database, so logout,
token revocation and an admin ending a token's sessions hold at once — for a replayed cookie
and in every worker process that shares the database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services, build_services
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.console.conftest import csrf_of, log_in

SECRET = "one-session-secret-for-every-worker"


@pytest.fixture
def workers(database_url: str) -> Iterator[Callable[[], TestClient]]:
    """``worker()``: a client of a new app with services of its own (as another uvicorn
    worker would have), on the same database and session secret."""
    built: list[Services] = []
    clients: list[TestClient] = []

    def worker() -> TestClient:
        services = build_services(make_settings(database_url, session_secret=SECRET))
        built.append(services)
        client = TestClient(create_app(services=services), base_url="http://localhost")
        clients.append(client.__enter__())
        return client

    yield worker
    for client in clients:
        client.__exit__(None, None, None)
    for services in built:
        services.close()


def replay(client: TestClient, cookie: str) -> int:
    """The status of a console page requested with nothing but ``cookie``."""
    client.cookies.clear()
    client.cookies.set("bl_session", cookie, domain="localhost.local", path="/console")
    return client.get("/console/addresses", follow_redirects=False).status_code


def logged_in(client: TestClient, token: str = ADMIN_TOKEN) -> str:
    log_in(client, token)
    return str(client.cookies["bl_session"])


def test_logout_ends_the_session_even_for_a_kept_cookie(
        workers: Callable[[], TestClient]) -> None:
    one, attacker = workers(), workers()
    cookie = logged_in(one)
    assert replay(attacker, cookie) == 200
    page = one.get("/console/addresses")
    one.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert replay(attacker, cookie) == 303  # on the other worker too: back to the login


def test_a_session_from_one_worker_ends_on_another(workers: Callable[[], TestClient]) -> None:
    first, second = workers(), workers()
    cookie = logged_in(first)
    second.cookies.set("bl_session", cookie, domain="localhost.local", path="/console")
    page = second.get("/console/addresses")
    assert page.status_code == 200
    second.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert replay(first, cookie) == 303


def bounceledger(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOUNCELEDGER_DATABASE_URL": database_url, "BOUNCELEDGER_REDIS_URL": "",
           "BOUNCELEDGER_BOOTSTRAP_TOKEN": ADMIN_TOKEN}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, text=True,
                          capture_output=True, timeout=60, check=True)


@pytest.mark.parametrize("how", ["api", "cli"])
def test_an_admin_ends_every_session_of_a_token(workers: Callable[[], TestClient],
                                                database_url: str, how: str) -> None:
    one, two = workers(), workers()
    token = one.post("/v1/tokens", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                     json={"role": "operator", "name": "olivia"}).json()["token"]
    cookies = [logged_in(one, token), logged_in(two, token)]
    if how == "api":
        ended = one.delete("/v1/tokens/olivia/sessions",
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert ended.json() == {"name": "olivia", "ended": 2}
    else:
        assert "ended 2" in bounceledger(database_url, "tokens", "end-sessions",
                                         "olivia").stdout
    assert [replay(one, c) for c in cookies] == [303, 303]
    assert one.get("/v1/addresses", headers={"Authorization": f"Bearer {token}"}
                   ).status_code == 200  # the token itself stays valid
    assert replay(one, logged_in(two, token)) == 200  # and may log in again


def test_revoking_a_token_in_another_process_ends_its_sessions(
        workers: Callable[[], TestClient], database_url: str, services: Services) -> None:
    one = workers()
    token = services.tokens.create("victor", "viewer")
    cookie = logged_in(one, token)
    bounceledger(database_url, "tokens", "revoke", "victor")
    assert replay(one, cookie) == 303
    assert services.tokens.sessions.live("victor") == 0


def test_the_database_never_holds_a_usable_session_id(workers: Callable[[], TestClient],
                                                      services: Services) -> None:
    import base64
    import json

    cookie = logged_in(workers())
    body = cookie.partition(".")[0]
    session_id = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["s"]
    with services.db.read() as cur:
        cur.execute("SELECT id_hash, token_hash FROM console_sessions")
        rows = cur.fetchall()
    assert rows and all(session_id not in row and ADMIN_TOKEN not in row for row in rows)
