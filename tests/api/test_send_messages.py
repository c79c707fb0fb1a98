"""``POST /v1/messages`` against moto's SES server: pre-check, send, record (both stores)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from adapters.send_validation import OutgoingMessage
from api.services import Services, build_services
from domain.reports import Bounce, Complaint
from domain.sender import PAUSED, Judgement
from tests.conftest import make_settings
from tests.ses_fakes import FROM, moto_messages, moto_recipients

NOW = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture
def services(database_url: str, ses_endpoint: str) -> Iterator[Services]:
    """Overrides the shared fixture: the same services, with SES pointed at moto."""
    built = build_services(make_settings(database_url, aws_endpoint_url=ses_endpoint,
                                         ses_max_send_rate=1000))
    yield built
    built.close()


def send(client: TestClient, headers: dict, to: list[str], **extra: Any) -> Any:
    body = {"from": FROM, "to": to, "subject": "Hello", "text": "Hi there", **extra}
    return client.post("/v1/messages", headers=headers["sender"], json=body)


def hard_bounce(services: Services, address: str) -> None:
    services.ledger.record(Bounce(address, f"f-{address}", "Permanent", "General", NOW, "sns"))


def test_a_blocked_recipient_causes_no_ses_call(client: TestClient, headers: dict,
                                                services: Services, ses_endpoint: str) -> None:
    hard_bounce(services, "gone@example.org")
    response = send(client, headers, ["Gone@Example.org"])
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{
        "address": "gone@example.org", "result": "blocked", "status": "bounced",
        "message_id": None, "reason": "hard_bounce", "profile_id": None}]
    assert moto_messages(ses_endpoint) == []
    blocked = services.ledger.history("gone@example.org")[-1]
    assert (type(blocked).__name__, blocked.status) == ("SendBlocked", "bounced")


def test_a_sendable_recipient_is_sent_and_recorded(client: TestClient, headers: dict,
                                                   services: Services, ses_endpoint: str) -> None:
    response = send(client, headers, ["fine@example.org"], profile_ids=["u1"], sender="news")
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    [received] = moto_messages(ses_endpoint)
    assert (result["result"], result["message_id"]) == ("sent", received["id"])
    assert received["destinations"]["ToAddresses"] == ["fine@example.org"]
    event = services.ledger.history("fine@example.org")[-1]
    assert (type(event).__name__, event.message_id, event.sender, event.profile_id) == (
        "MessageSent", received["id"], "news", "u1")
    assert [s.address for s in services.messages.sends(received["id"])] == ["fine@example.org"]


def test_a_mixed_list_splits_per_recipient_in_input_order(
        client: TestClient, headers: dict, services: Services, ses_endpoint: str) -> None:
    hard_bounce(services, "b1@example.org")
    services.ledger.record(Complaint("c1@example.org", "fc", NOW, "sns", "abuse"))
    to = ["ok1@example.org", "b1@example.org", "ok2@example.org", "c1@example.org"]
    response = send(client, headers, to)
    assert response.status_code == 200, response.text
    results = [(r["address"], r["result"], r["status"]) for r in response.json()["results"]]
    assert results == [("ok1@example.org", "sent", "ok"), ("b1@example.org", "blocked", "bounced"),
                       ("ok2@example.org", "sent", "ok"),
                       ("c1@example.org", "blocked", "complained")]
    assert sorted(moto_recipients(ses_endpoint)) == ["ok1@example.org", "ok2@example.org"]
    assert len(moto_messages(ses_endpoint)) == 2  # one SES message per recipient


def test_the_sender_defaults_to_the_from_domain(client: TestClient, headers: dict,
                                                services: Services) -> None:
    send(client, headers, ["who@example.org"])
    assert services.ledger.history("who@example.org")[-1].sender == "example.com"


@pytest.mark.parametrize(("change", "fragment"), [
    ({"to": [f"r{i}@example.org" for i in range(51)]}, "at most 50 recipients"),
    ({"to": ["ok@example.org", "not an address"]}, "to[1]:"),
    ({"from": ""}, "from address is required"),
    ({"to": []}, "at least one recipient"),
    ({"text": None}, "needs a body"),
    ({"subject": "two\nlines"}, "line breaks"),
    ({"profile_ids": ["u1", "u2"]}, "one entry (or null) per recipient"),
])
def test_an_invalid_message_is_422_without_any_ses_call(
        client: TestClient, headers: dict, ses_endpoint: str, change: dict, fragment: str) -> None:
    body = {"from": FROM, "to": ["ok@example.org"], "subject": "Hi", "text": "x", **change}
    response = client.post("/v1/messages", headers=headers["sender"], json=body)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]["message"]
    assert moto_messages(ses_endpoint) == []


def test_a_missing_from_field_is_422(client: TestClient, headers: dict) -> None:
    response = client.post("/v1/messages", headers=headers["sender"],
                           json={"to": ["ok@example.org"], "subject": "Hi", "text": "x"})
    assert response.status_code == 422
    assert "from" in response.json()["error"]["message"]


def test_an_unverified_from_is_rejected_once_and_reported(
        client: TestClient, headers: dict, services: Services, ses_endpoint: str) -> None:
    response = send(client, headers, ["x@example.org", "y@example.org"],
                    **{"from": "stranger@unverified.example"})
    assert response.status_code == 200, response.text
    for result in response.json()["results"]:
        assert result["result"] == "failed"
        assert result["reason"].startswith("MessageRejected:")
    assert moto_messages(ses_endpoint) == []
    assert services.ledger.history("x@example.org") == []


def test_a_paused_sender_is_refused_with_409(client: TestClient, headers: dict,
                                            services: Services, ses_endpoint: str) -> None:
    services.ledger.judge_sender("acme", Judgement(PAUSED, "virus_complaint", "a virus"),
                                 occurred_at=NOW)
    response = send(client, headers, ["ok@example.org"], sender="acme")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sender_paused"
    assert "acme" in response.json()["error"]["message"]
    assert moto_messages(ses_endpoint) == []


def test_sending_needs_the_sender_role(client: TestClient, headers: dict,
                                       ses_endpoint: str) -> None:
    response = client.post("/v1/messages", headers=headers["viewer"],
                           json={"from": FROM, "to": ["a@example.org"], "subject": "s",
                                 "text": "t"})
    assert response.status_code == 403
    assert moto_messages(ses_endpoint) == []


@pytest.mark.redis
def test_with_redis_the_send_is_mapped_in_redis_with_its_ttl(
        database_url: str, ses_endpoint: str, redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    built = build_services(make_settings(database_url, aws_endpoint_url=ses_endpoint,
                                         redis_url=redis_url, redis_prefix=prefix))
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    try:
        [result] = built.email().send(OutgoingMessage(
            from_address=FROM, to=["m@example.org"], subject="s", text="t"))
        key = f"{prefix}msg:{result.message_id}"
        assert client.hkeys(key) == ["m@example.org"]
        assert 0 < client.ttl(key) <= 30 * 86400
    finally:
        built.close()
        client.delete(*client.scan_iter(f"{prefix}*"))
