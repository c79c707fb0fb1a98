"""``DELETE /v1/addresses/{a}``: crypto-shredding on real SQLite, PostgreSQL and Redis.

After an erasure the address, its profile id and its diagnostic occur nowhere: not in the
SQLite file (nor its WAL), not in a ``pg_dump`` of the test schema, not under the test's
Redis prefix, not in an export. The history keeps every event, redacted; a block survives.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services, build_services
from domain.reports import Bounce, Sent
from projections.export_workers import chunks
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.ses_fakes import FROM, moto_recipients

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ADDRESS, PROFILE, DIAGNOSTIC = "erase.me@example.org", "profile-erase-7", "DIAG-ERASE-42"
NEEDLES = (ADDRESS.encode(), PROFILE.encode(), DIAGNOSTIC.encode())


@pytest.fixture
def services(database_url: str, ses_endpoint: str, redis_url: str,
             prefix: str) -> Iterator[Services]:
    built = build_services(make_settings(
        database_url, aws_endpoint_url=ses_endpoint, ses_max_send_rate=1000,
        redis_url=redis_url, redis_prefix=prefix, erasure_key="test-erasure-key"))
    yield built
    built.close()


def send(client: TestClient, headers: dict, to: list[str], **extra: Any) -> Any:
    body = {"from": FROM, "to": to, "subject": "Hello", "text": "Hi", **extra}
    return client.post("/v1/messages", headers=headers["sender"], json=body)


def erase(client: TestClient, headers: dict, address: str = ADDRESS, role: str = "admin",
          body: Any = None) -> Any:
    return client.request("DELETE", f"/v1/addresses/{address}", headers=headers[role],
                          json={"reason": "GDPR art. 17 request #12"} if body is None else body)


def bounced_with_history(client: TestClient, headers: dict, services: Services) -> None:
    """A send through SES (message map in SQL and Redis), then a hard bounce."""
    assert send(client, headers, [ADDRESS], profile_ids=[PROFILE]).status_code == 200
    services.ledger.record(Bounce(ADDRESS, "fb-1", "Permanent", "General", NOW, "sns",
                                  diagnostic=f"smtp; 550 5.1.1 <{ADDRESS}> {DIAGNOSTIC}"))
    assert services.statuses.status(ADDRESS)["status"] == "bounced"


def stored_bytes(services: Services, database_url: str) -> bytes:
    """Everything the database holds: the SQLite files, or a dump of the test schema."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = Path(database_url.split("://", 1)[1].removeprefix("/"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    schema = parse_qs(parts.query)["schema"][0]
    return subprocess.run(
        ["pg_dump", "-h", parts.hostname or "127.0.0.1", "-U", parts.username or "postgres",
         "-d", parts.path.lstrip("/"), f"--schema={schema}"],
        check=True, capture_output=True, timeout=60).stdout


def redis_bytes(redis_url: str, prefix: str) -> bytes:
    client = redis_lib.Redis.from_url(redis_url)
    found = b""
    for key in client.scan_iter(f"{prefix}*"):
        found += key + b"\n"
        kind = client.type(key)
        if kind == b"string":
            found += client.get(key) or b""
        elif kind == b"hash":
            found += b"".join(k + v for k, v in client.hgetall(key).items())
    return found


def exported(services: Services) -> str:
    out = b"".join(payload for _, _, payload in chunks(
        services.event_log(), services.ledger, "jsonl") if payload)
    return out.decode()


def test_erasure_leaves_the_address_nowhere(client: TestClient, headers: dict,
                                            services: Services, database_url: str,
                                            redis_url: str, prefix: str) -> None:
    bounced_with_history(client, headers, services)
    assert ADDRESS.encode() in redis_bytes(redis_url, prefix)  # the test can fail
    assert ADDRESS.encode() in stored_bytes(services, database_url)
    response = erase(client, headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"erased": True, "status": "bounced", "sendable": False}
    places = {"database": stored_bytes(services, database_url),
              "redis": redis_bytes(redis_url, prefix), "export": exported(services).encode()}
    for place, content in places.items():
        for needle in NEEDLES:
            assert needle not in content, f"{needle!r} found in {place}"


def test_history_keeps_every_event_redacted_then_erased(client: TestClient, headers: dict,
                                                        services: Services) -> None:
    bounced_with_history(client, headers, services)
    before = [e["type"] for e in client.get(f"/v1/addresses/{ADDRESS}/history",
                                            headers=headers["viewer"]).json()["events"]]
    erase(client, headers)
    events = client.get(f"/v1/addresses/{ADDRESS}/history",
                        headers=headers["viewer"]).json()["events"]
    assert [e["type"] for e in events] == [*before, "Erased"]
    assert all(e["data"] == {"redacted": True} for e in events[:-1])
    assert {e["address"] for e in events} == {"[erased]"}
    erased = events[-1]["data"]
    assert (erased["actor"], erased["reason"], erased["status"], erased["blocked"]) == (
        "bootstrap", "GDPR art. 17 request #12", "bounced", True)


def test_export_shows_the_erased_events_as_redacted(client: TestClient, headers: dict,
                                                    services: Services) -> None:
    bounced_with_history(client, headers, services)
    erase(client, headers)
    lines = [json.loads(line) for line in exported(services).splitlines()]
    mine = [line for line in lines if line["address"] == "[erased]"]
    assert [line["type"] for line in mine] == [
        "Registered", "MessageSent", "HardBounced", "Erased"]


def test_a_blocked_address_is_still_refused_after_erasure(
        client: TestClient, headers: dict, services: Services, ses_endpoint: str) -> None:
    bounced_with_history(client, headers, services)
    erase(client, headers)
    check = client.post("/v1/addresses:check", headers=headers["sender"],
                        json={"addresses": [ADDRESS]})
    assert check.json()["results"] == [
        {"address": ADDRESS, "status": "bounced", "sendable": False}]
    single = client.get(f"/v1/addresses/{ADDRESS}", headers=headers["sender"]).json()
    assert (single["status"], single["reason"], single["diagnostic"]) == (
        "bounced", "erased", None)
    sent_before = len(moto_recipients(ses_endpoint))
    [result] = send(client, headers, [ADDRESS]).json()["results"]
    assert (result["result"], result["status"]) == ("blocked", "bounced")
    assert len(moto_recipients(ses_endpoint)) == sent_before
    again = send(client, headers, [ADDRESS]).json()["results"][0]  # now re-registered
    assert (again["result"], again["status"]) == ("blocked", "bounced")


def test_an_erased_ok_address_is_sendable_again(client: TestClient, headers: dict,
                                                services: Services, ses_endpoint: str) -> None:
    services.ledger.record(Sent(ADDRESS, "m-1", NOW, "api"))
    assert erase(client, headers).json() == {"erased": True, "status": "ok", "sendable": True}
    [result] = send(client, headers, [ADDRESS]).json()["results"]
    assert result["result"] == "sent"
    assert moto_recipients(ses_endpoint) == [ADDRESS]
    assert services.statuses.status(ADDRESS)["counts"]["sent"] == 1


def test_erasing_twice_answers_200_and_records_one_erasure(client: TestClient, headers: dict,
                                                           services: Services) -> None:
    services.ledger.record(Sent(ADDRESS, "m-1", NOW, "api"))
    erase(client, headers)
    second = erase(client, headers)
    assert second.status_code == 200
    assert second.json()["erased"] is False
    assert [type(e).__name__ for e in services.ledger.history(ADDRESS)].count("Erased") == 1


def test_the_other_address_of_an_email_change_is_erased_too(client: TestClient, headers: dict,
                                                            services: Services) -> None:
    services.ledger.change_email("p-9", old_address=ADDRESS, new_address="kept@example.org",
                                 actor="ops", occurred_at=NOW, source="api")
    erase(client, headers)
    arrived = services.ledger.history("kept@example.org")[-1]
    assert (type(arrived).__name__, arrived.old_address) == ("EmailChangedFrom", "[erased]")


def test_an_operator_may_not_erase(client: TestClient, headers: dict,
                                   services: Services) -> None:
    services.ledger.record(Sent(ADDRESS, "m-1", NOW, "api"))
    assert erase(client, headers, role="operator").status_code == 403


def test_erasure_needs_a_reason(client: TestClient, headers: dict, services: Services) -> None:
    services.ledger.record(Sent(ADDRESS, "m-1", NOW, "api"))
    assert erase(client, headers, body={}).status_code == 422
    assert erase(client, headers, body={"reason": "  "}).status_code == 422


def test_erasing_an_unknown_address_is_404(client: TestClient, headers: dict) -> None:
    response = erase(client, headers, address="never@example.org")
    assert (response.status_code, response.json()["error"]["code"]) == (
        404, "address_not_found")


def test_erasure_without_the_erasure_key_is_refused(database_url: str) -> None:
    built = build_services(make_settings(database_url))
    try:
        built.ledger.record(Sent(ADDRESS, "m-1", NOW, "api"))
        with TestClient(create_app(services=built)) as client:
            response = client.request("DELETE", f"/v1/addresses/{ADDRESS}",
                                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                                      json={"reason": "asked"})
        assert (response.status_code, response.json()["error"]["code"]) == (
            503, "erasure_unavailable")
        assert "BOUNCELEDGER_ERASURE_KEY" in response.json()["error"]["message"]
    finally:
        built.close()


def test_a_reset_lifts_a_block_kept_through_erasure(client: TestClient, headers: dict,
                                                    services: Services) -> None:
    bounced_with_history(client, headers, services)
    erase(client, headers)
    response = client.post(f"/v1/addresses/{ADDRESS}/reset", headers=headers["operator"],
                           json={"reason": "mailbox exists again"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["sendable"]) == ("ok", True)


def test_every_view_rebuilds_equal_to_the_live_one_after_erasures(
        client: TestClient, headers: dict, services: Services) -> None:
    bounced_with_history(client, headers, services)
    services.ledger.record(Sent("ok.one@example.org", "m-2", NOW, "api", profile_id="p-2"))
    erase(client, headers)
    erase(client, headers, address="ok.one@example.org")
    send(client, headers, [ADDRESS, "ok.one@example.org"])  # both registered again
    for name in ("email_status", "profiles", "message_map"):
        assert services.rebuild(name, verify=True).differences == [], name
