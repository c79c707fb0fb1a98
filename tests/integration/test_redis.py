"""The Redis status mirror and message map, on a real Redis (mandatory in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from adapters.redis_cache import Mirrored
from api.app import create_app
from api.services import Services, build_services
from domain.reports import Bounce, Sent
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.proxy import Proxy

pytestmark = pytest.mark.redis
NOW = datetime(2026, 5, 1, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def hard(address: str, fid: str = "f1") -> Bounce:
    return Bounce(address, fid, "Permanent", "General", NOW, "sns", diagnostic="550 gone")


@pytest.fixture
def proxy(redis_url: str) -> Iterator[Proxy]:
    target = urlsplit(redis_url)
    p = Proxy(target.hostname or "127.0.0.1", target.port or 6379)
    yield p
    p.close()


@pytest.fixture
def cached(database_url: str, proxy: Proxy, prefix: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url,
                                         redis_url=f"redis://127.0.0.1:{proxy.port}/0",
                                         redis_prefix=prefix))
    yield built
    built.close()


def direct(redis_url: str) -> redis_lib.Redis:
    return redis_lib.Redis.from_url(redis_url, decode_responses=True)


def test_mirror_follows_the_projection(cached: Services, redis_url: str, prefix: str) -> None:
    cached.ledger.record(hard("m@example.com"))
    raw = direct(redis_url).get(f"{prefix}status:m@example.com")
    assert raw is not None and raw.split(" ")[1:] == ["0", "bounced", "hard_bounce"]
    assert cached.statuses.check(["m@example.com"])[0]["sendable"] is False


def test_an_older_row_never_replaces_a_newer_one(cached: Services, redis_url: str,
                                                 prefix: str) -> None:
    assert cached.mirror is not None
    cached.ledger.record(hard("n@example.com"))
    cached.mirror.cache.put([("n@example.com", Mirrored(1, True, "ok", None))])
    raw = direct(redis_url).get(f"{prefix}status:n@example.com") or ""
    assert raw.split(" ")[2] == "bounced"
    assert cached.statuses.check(["n@example.com"])[0]["status"] == "bounced"


def test_message_map_is_in_redis_with_its_ttl(cached: Services, redis_url: str,
                                              prefix: str) -> None:
    cached.ledger.record(Sent("p@example.com", "ses-77", NOW, "api", sender="s", profile_id="u"))
    client = direct(redis_url)
    assert client.hkeys(f"{prefix}msg:ses-77") == ["p@example.com"]
    ttl = client.ttl(f"{prefix}msg:ses-77")
    assert 30 * 86400 - 60 < ttl <= 30 * 86400
    assert [(s.address, s.profile_id) for s in cached.messages.sends("ses-77")] == [
        ("p@example.com", "u")]


def test_checks_stay_correct_when_redis_stops(cached: Services, proxy: Proxy) -> None:
    cached.ledger.record(hard("q@example.com"))
    with TestClient(create_app(services=cached)) as client:
        proxy.cut()
        response = client.post("/v1/addresses:check", headers=AUTH,
                               json={"addresses": ["q@example.com", "r@example.com"]})
        assert response.status_code == 200
        assert [r["sendable"] for r in response.json()["results"]] == [False, True]
        cached.ledger.record(hard("r@example.com"))  # the Redis write is lost
        single = client.get("/v1/addresses/r@example.com", headers=AUTH)
        assert (single.status_code, single.json()["status"]) == (200, "bounced")
        assert client.get("/readyz").status_code == 503


def test_sync_repairs_a_write_lost_while_redis_was_away(cached: Services, proxy: Proxy,
                                                        redis_url: str, prefix: str) -> None:
    assert cached.mirror is not None
    cached.ledger.record(Sent("s@example.com", "m1", NOW, "api"))
    proxy.cut()
    cached.ledger.record(hard("s@example.com"))
    proxy.resume()
    raw = direct(redis_url).get(f"{prefix}status:s@example.com") or ""
    assert raw.split(" ")[2] == "ok"  # stale: the bounce never reached Redis
    assert cached.statuses.check(["s@example.com"])[0]["sendable"] is False  # not trusted
    cached.mirror.sync()
    raw = direct(redis_url).get(f"{prefix}status:s@example.com") or ""
    assert raw.split(" ")[2] == "bounced"
