"""Issue 13 items 5 and 8 against the real server (``bounceledger serve``, uvicorn): the
``X-Forwarded-For`` header is believed only from ``FORWARDED_ALLOW_IPS`` (none by default), so
the login and bearer-token throttles count the real client; and no log line — access log
included — holds a full address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.security.serve import Served, serving

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def settings_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BOUNCELEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "BOUNCELEDGER_REDIS_URL": "", "BOUNCELEDGER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
            "BOUNCELEDGER_ERASURE_KEY": "test-erasure-key", "BOUNCELEDGER_SESSION_SECRET": "",
            "BOUNCELEDGER_FORWARDED_ALLOW_IPS": "",
            **{f"BOUNCELEDGER_{k.upper()}": v for k, v in extra.items()}}


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve-default")
    with serving(settings_env(root), root / "server.log") as served:
        yield served


def wrong_logins(base: str, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=base) as client:
        csrf = CSRF.search(client.get("/console/login").text)
        assert csrf
        return [client.post("/console/login", data={"token": "bl_wrong", "csrf_token":
                                                      csrf.group(1)},
                            headers={"X-Forwarded-For": ip}).status_code
                for ip in forwarded_for]


def wrong_bearers(base: str, forwarded_for: list[str]) -> list[int]:
    return [httpx.get(f"{base}/v1/addresses/a@example.com",
                      headers={"Authorization": f"Bearer bl_wrong{n}", "X-Forwarded-For": ip}
                      ).status_code for n, ip in enumerate(forwarded_for)]


def distinct_ips(count: int, block: int = 1) -> list[str]:
    return [f"198.51.{block}.{n + 1}" for n in range(count)]


def test_by_default_forwarded_for_cannot_dodge_the_login_throttle(
        default_server: Served) -> None:
    assert wrong_logins(default_server.base, distinct_ips(11)) == [401] * 10 + [429]


def test_by_default_forwarded_for_cannot_dodge_the_bearer_throttle(
        default_server: Served) -> None:
    answers = wrong_bearers(default_server.base, distinct_ips(21, block=2))
    assert answers == [401] * 20 + [429]
    blocked = httpx.get(f"{default_server.base}/v1/tokens", headers=ADMIN)
    assert blocked.status_code == 429  # even a valid token, from that client, waits
    assert int(blocked.headers["retry-after"]) > 0


def test_behind_an_allowed_proxy_each_forwarded_client_counts_alone(tmp_path: Path) -> None:
    env = settings_env(tmp_path, forwarded_allow_ips="127.0.0.1")
    with serving(env, tmp_path / "server.log") as served:
        assert wrong_logins(served.base, distinct_ips(11)) == [401] * 11
        assert wrong_logins(served.base, ["203.0.113.7"] * 11) == [401] * 10 + [429]
        assert wrong_bearers(served.base, distinct_ips(21, block=3)) == [401] * 21
        assert httpx.get(f"{served.base}/v1/tokens", headers=ADMIN).status_code == 200


SECRETS = ("kate.secret", "slash.secret", "erase.secret", "query.secret", "next.secret",
           "profile.secret", "lookup.secret")


def test_no_log_line_holds_an_address(default_server: Served) -> None:
    base = default_server.base
    with httpx.Client(base_url=base, headers=ADMIN) as client:
        client.get("/v1/addresses/kate.secret@example.com")
        client.get("/v1/addresses/KATE.SECRET%40example.com")
        client.get("/v1/addresses/a%2Fslash.secret@example.com/history")
        client.get("/v1/addresses/a/slash.secret@example.com/status-at?at=2026-01-01")
        client.delete("/v1/addresses/erase.secret@example.com?reason=asked")
        client.get("/v1/addresses", params={"q": "query.secret@example.com"})
        client.get("/v1/profiles/profile.secret@example.com")
        client.post("/v1/messages:record", json={"message_id": "m1", "recipients": [
            {"address": "kate.secret@example.com"}]})
    with httpx.Client(base_url=base, follow_redirects=True) as browser:
        browser.get("/console/addresses/next.secret@example.com")  # → login?next=…
        browser.get("/console/lookup", params={"address": "lookup.secret@example.com"})
    output = default_server.output()
    assert "GET /v1/addresses/[address:" in output  # the access log is on, and redacted
    assert "/history" in output and "/status-at" in output
    for secret in SECRETS:
        assert secret not in output.lower(), f"{secret} reached the log"
