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
from domain.reports import Bounce, Complaint, Sent
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


@pytest.fixture
def erasable(database_url: str, redis_url: str, prefix: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url, redis_url=redis_url,
                                         redis_prefix=prefix, erasure_key="check-erasure-key"))
    yield built
    built.close()


def test_the_check_answers_the_same_from_redis_and_from_sql_for_every_status(
        erasable: Services, database_url: str) -> None:
    """Every status (and an erased blocked address, and one never seen) checked through the
    proven Redis mirror and through a service without Redis on the same database: the same
    answers over HTTP."""
    cached, ledger = erasable, erasable.ledger
    ledger.record(Sent("ok@example.com", "m1", NOW, "api"),
                  Bounce("soft@example.com", "f1", "Transient", "General", NOW, "sns"),
                  hard("hard@example.com"), hard("gone@example.com", "f2"),
                  Complaint("angry@example.com", "c1", NOW, "sns", feedback_type="abuse"))
    ledger.suppress("held@example.com", actor="ops", reason="legal hold", occurred_at=NOW,
                    source="cli")
    ledger.erase("gone@example.com", actor="ops", reason="asked", occurred_at=NOW,
                 source="api")
    addresses = ["ok@example.com", "soft@example.com", "hard@example.com",
                 "angry@example.com", "held@example.com", "gone@example.com",
                 "never@example.com"]
    known = addresses[:5]
    assert cached.mirror is not None and cached.mirror.sync() >= 0
    assert set(cached.statuses._proven(known)) == set(known)  # the mirror answers these
    plain = build_services(make_settings(database_url, erasure_key="check-erasure-key"))
    try:
        assert plain.mirror is None
        answers = []
        for services in (cached, plain):
            with TestClient(create_app(services=services)) as client:
                response = client.post("/v1/addresses:check", headers=AUTH,
                                       json={"addresses": addresses})
                assert response.status_code == 200
                answers.append(response.json()["results"])
    finally:
        plain.close()
    assert answers[0] == answers[1]
    assert [(r["status"], r["sendable"]) for r in answers[0]] == [
        ("ok", True), ("soft_bounced", True), ("bounced", False), ("complained", False),
        ("suppressed", False), ("bounced", False), ("ok", True)]  # the erased block holds
