"""Issue 13 item 9 on both stores, sending through moto's SES: a pause holds for what the caller
really sends as — the from-domain is checked too, and a bound sender token can only send and
record as its own senders, from its own domains."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services, build_services
from domain.sender import PAUSED, Judgement
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.ses_fakes import FROM, moto_recipients

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def services(database_url: str, ses_endpoint: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url, aws_endpoint_url=ses_endpoint,
                                         ses_max_send_rate=1000))
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as test_client:
        yield test_client


def token(client: TestClient, name: str, **binding: Any) -> dict[str, str]:
    made = client.post("/v1/tokens", headers=ADMIN, json={"role": "sender", "name": name,
                                                          **binding})
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def pause(services: Services, sender: str) -> None:
    services.ledger.judge_sender(sender, Judgement(PAUSED, "complaint_rate", "too many"),
                                 occurred_at=NOW)


def send(client: TestClient, auth: dict[str, str], to: str, **extra: Any) -> Any:
    return client.post("/v1/messages", headers=auth, json={
        "from": FROM, "to": [to], "subject": "Hi", "text": "Hello", **extra})


def test_naming_another_sender_does_not_escape_a_paused_from_domain(
        client: TestClient, services: Services, ses_endpoint: str) -> None:
    unbound = token(client, "legacy-app")
    pause(services, "example.com")  # the from-domain, the default sender of FROM
    for extra in ({}, {"sender": "someone-else"}, {"sender": "example.com"}):
        response = send(client, unbound, "a@example.org", **extra)
        assert (response.status_code, response.json()["error"]["code"]) == (409,
                                                                           "sender_paused")
    assert moto_recipients(ses_endpoint) == []


def test_a_bound_token_cannot_name_another_sender(client: TestClient, services: Services,
                                                  ses_endpoint: str) -> None:
    acme = token(client, "acme-app", senders=["acme"], from_domains=["example.com"])
    pause(services, "acme")
    for extra in ({}, {"sender": "acme"}):
        assert send(client, acme, "b@example.org", **extra).status_code == 409
    for extra in ({"sender": "newsletters"}, {"sender": "example.com"}, {"sender": "Acme"}):
        response = send(client, acme, "b@example.org", **extra)
        assert (response.status_code, response.json()["error"]["code"]) == (
            403, "sender_not_allowed")
    assert moto_recipients(ses_endpoint) == []


def test_a_bound_token_sends_only_from_its_domains(client: TestClient, ses_endpoint: str) -> None:
    acme = token(client, "acme-app", senders=["acme"], from_domains=["Example.COM"])
    other = send(client, acme, "c@example.org", **{"from": "news@other.example"})
    assert (other.status_code, other.json()["error"]["code"]) == (403, "sender_not_allowed")
    assert send(client, acme, "c@example.org").status_code == 200
    assert moto_recipients(ses_endpoint) == ["c@example.org"]


def test_a_bound_tokens_sends_are_recorded_as_its_sender(client: TestClient,
                                                         services: Services) -> None:
    acme = token(client, "acme-app", senders=["acme"])
    assert send(client, acme, "d@example.org").json()["results"][0]["result"] == "sent"
    recorded = client.post("/v1/messages:record", headers=acme, json={
        "message_id": "elsewhere-1", "recipients": [{"address": "e@example.org"}]})
    assert recorded.status_code == 200
    for address in ("d@example.org", "e@example.org"):
        [*_, sent] = services.ledger.history(address)
        assert (type(sent).__name__, sent.sender) == ("MessageSent", "acme")


def test_a_bound_token_records_only_as_its_senders(client: TestClient) -> None:
    two = token(client, "two-apps", senders=["shop", "billing"])
    body = {"message_id": "m-2", "recipients": [{"address": "f@example.org"}]}
    assert client.post("/v1/messages:record", headers=two, json=body).status_code == 422
    other = client.post("/v1/messages:record", headers=two, json={**body, "sender": "acme"})
    assert (other.status_code, other.json()["error"]["code"]) == (403, "sender_not_allowed")
    assert client.post("/v1/messages:record", headers=two,
                       json={**body, "sender": "billing"}).status_code == 200


def test_binding_is_managed_by_admins(client: TestClient) -> None:
    app = token(client, "app")
    listed = {t["name"]: t for t in client.get("/v1/tokens", headers=ADMIN).json()}
    assert (listed["app"]["senders"], listed["app"]["from_domains"]) == (None, None)
    bound = client.put("/v1/tokens/app/binding", headers=ADMIN,
                       json={"senders": ["shop"], "from_domains": ["faß.de"]})
    assert bound.json()["from_domains"] == ["xn--fa-hia.de"]
    assert client.put("/v1/tokens/app/binding", headers=app,
                      json={"senders": None}).status_code == 403
    viewer = client.post("/v1/tokens", headers=ADMIN, json={
        "role": "viewer", "name": "v", "senders": ["shop"]})
    assert (viewer.status_code, viewer.json()["error"]["code"]) == (422, "invalid_binding")
    bad = client.put("/v1/tokens/app/binding", headers=ADMIN,
                     json={"senders": ["shop"], "from_domains": ["not a domain"]})
    assert bad.status_code == 422
