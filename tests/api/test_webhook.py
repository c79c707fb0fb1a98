"""POST /webhooks/ses end to end: signed SNS messages in, committed events and statuses out."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.services import Services, build_ingest, build_services
from tests.adapters.conftest import Recorder
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.sns_signing import TOPIC, Signer, ses_bounce

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Hook:
    """A client for the webhook, with the signer and the outbound-request recorder."""

    def __init__(self, client: TestClient, signer: Signer, outbound: Recorder,
                 services: Services) -> None:
        self.client, self.signer, self.outbound, self.services = client, signer, outbound, services

    def post(self, envelope: dict | bytes, header: str | None = "Notification") -> httpx.Response:
        content = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
        headers = {"Content-Type": "text/plain; charset=UTF-8"}
        if header:
            headers["x-amz-sns-message-type"] = header
        return self.client.post("/webhooks/ses", content=content, headers=headers)

    def status(self, address: str) -> dict:
        return self.client.get(f"/v1/addresses/{address}", headers=AUTH).json()


def make_hook(database_url: str, tmp_path: Path, **overrides: object) -> Iterator[Hook]:
    signer = Signer(tmp_path / "certs")
    services = build_services(make_settings(database_url, sns_topic_arns=TOPIC,
                                            sns_cert_dir=str(signer.cert_dir), **overrides))
    outbound = Recorder(lambda request: httpx.Response(200, content=b"<ok/>"))
    services.ingest = build_ingest(services.settings, outbound.client(), services.committer)
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            yield Hook(client, signer, outbound, services)
    finally:
        services.close()


@pytest.fixture
def hook(database_url: str, tmp_path: Path) -> Iterator[Hook]:
    yield from make_hook(database_url, tmp_path)


def test_hard_bounce_is_committed_before_the_200(hook: Hook) -> None:
    response = hook.post(hook.signer.notification(ses_bounce("Gone@Example.com")))
    assert response.status_code == 200
    assert response.json() == {"outcome": "accepted", "kind": "bounce", "recorded": 1,
                               "duplicates": 0}
    status = hook.status("gone@example.com")
    assert (status["status"], status["reason"]) == ("bounced", "hard_bounce")
    assert hook.outbound.requests == []


def test_duplicates_answer_200_and_change_nothing(hook: Hook) -> None:
    payload = ses_bounce("dup@example.com", feedback_id="fb-1")
    first = hook.signer.notification(payload)
    assert hook.post(first).json()["recorded"] == 1
    again = hook.post(first)  # the same SNS message delivered twice
    resent = hook.post(hook.signer.notification(payload))  # a new SNS id, same feedback
    assert [again.status_code, resent.status_code] == [200, 200]
    assert again.json()["outcome"] == resent.json()["outcome"] == "duplicate"
    assert hook.status("dup@example.com")["counts"]["hard_bounces"] == 1


def test_engagement_events_are_acknowledged_not_stored(hook: Hook) -> None:
    message = {"eventType": "Open", "mail": {"messageId": "m", "destination": ["o@example.com"]},
               "open": {"timestamp": "2026-01-01T00:00:00.000Z"}}
    response = hook.post(hook.signer.notification(message))
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert hook.services.ledger.history("o@example.com") == []


def test_a_refused_message_stores_nothing_and_fetches_nothing(hook: Hook) -> None:
    envelope = hook.signer.notification(ses_bounce("x@example.com"),
                                        topic="arn:aws:sns:us-east-1:999999999999:theirs")
    response = hook.post(envelope)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "topic_not_allowed"
    tampered = {**hook.signer.notification(ses_bounce("x@example.com")), "Subject": "hi"}
    assert hook.post(tampered).json()["error"]["code"] == "bad_signature"
    assert hook.services.ledger.history("x@example.com") == []
    assert hook.outbound.requests == []


def test_oversized_and_raw_bodies(hook: Hook) -> None:
    assert hook.post(b"x" * (600 * 1024)).status_code == 413
    raw = hook.post(json.dumps(ses_bounce("r@example.com")).encode(), header=None)
    assert raw.status_code == 400 and "raw message delivery" in raw.json()["error"]["message"]


def test_alias_path(hook: Hook) -> None:
    envelope = json.dumps(hook.signer.notification(ses_bounce("alias@example.com")))
    response = hook.client.post("/webhooks/sns", content=envelope)
    assert response.status_code == 200


def test_subscription_is_confirmed_with_one_get(hook: Hook) -> None:
    envelope = hook.signer.confirmation()
    response = hook.post(envelope, "SubscriptionConfirmation")
    assert (response.status_code, response.json()["outcome"]) == (200, "confirmed")
    assert [str(r.url) for r in hook.outbound.requests] == [envelope["SubscribeURL"]]


def test_a_subscribe_url_elsewhere_is_never_fetched(hook: Hook) -> None:
    envelope = hook.signer.confirmation(
        subscribe_url=f"https://evil.example/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=a")
    assert hook.post(envelope, "SubscriptionConfirmation").status_code == 403
    assert hook.outbound.requests == []


def test_a_failed_confirmation_is_502_so_sns_retries(hook: Hook) -> None:
    hook.outbound.respond = lambda request: httpx.Response(503)
    response = hook.post(hook.signer.confirmation(), "SubscriptionConfirmation")
    assert (response.status_code, response.json()["error"]["code"]) == (502, "confirm_failed")


def test_unsubscribe_confirmation_is_logged_never_followed(hook: Hook) -> None:
    response = hook.post(hook.signer.confirmation("UnsubscribeConfirmation"),
                         "UnsubscribeConfirmation")
    assert (response.status_code, response.json()["outcome"]) == (200, "unsubscribed")
    assert hook.outbound.requests == []


def test_auto_confirm_off_fetches_nothing(database_url: str, tmp_path: Path) -> None:
    for hook in make_hook(database_url, tmp_path, sns_auto_confirm=False):
        response = hook.post(hook.signer.confirmation(), "SubscriptionConfirmation")
        assert response.json()["outcome"] == "confirmation_skipped"
        assert hook.outbound.requests == []


def test_other_accounts_are_refused_when_listed(database_url: str, tmp_path: Path) -> None:
    for hook in make_hook(database_url, tmp_path, ses_account_ids="111111111111"):
        response = hook.post(hook.signer.notification(ses_bounce("acct@example.com")))
        assert response.json()["error"]["code"] == "account_not_allowed"
        assert hook.services.ledger.history("acct@example.com") == []


def test_the_send_map_supplies_the_sender(hook: Hook) -> None:
    hook.client.post("/v1/messages:record", headers=AUTH, json={
        "message_id": "ses-mapped", "recipients": [{"address": "m@example.com"}],
        "sender": "billing"})
    hook.post(hook.signer.notification(ses_bounce("m@example.com", message_id="ses-mapped")))
    [*_, bounce] = hook.services.ledger.history("m@example.com")
    assert (type(bounce).__name__, bounce.sender) == ("HardBounced", "billing")


def test_metrics_count_outcomes(hook: Hook) -> None:
    hook.post(hook.signer.notification(ses_bounce("metric@example.com")))
    hook.post(b"{}")
    text = hook.client.get("/metrics").text
    assert 'bounceledger_sns_messages_total{outcome="accepted",path="sns"}' in text
    assert 'bounceledger_sns_messages_total{outcome="not_sns",path="sns"}' in text


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.dictionaries(
    st.sampled_from(["Type", "Signature", "SigningCertURL", "TopicArn", "Message", "MessageId",
                     "Timestamp", "SignatureVersion", "SubscribeURL", "Subject"]),
    st.one_of(st.text(max_size=40), st.integers(), st.none()), max_size=10).map(
        lambda d: json.dumps(d).encode())))
def test_arbitrary_input_never_gets_a_5xx(hook: Hook, raw: bytes) -> None:
    response = hook.post(raw, header=None)
    assert 400 <= response.status_code < 500
    assert hook.outbound.requests == []


def _report(kind: str, address: str, ref: str, when: datetime) -> dict:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    mail = {"timestamp": stamp, "messageId": f"msg-{ref}", "source": "a@shop.example",
            "destination": [address]}
    if kind == "delivery":
        return {"notificationType": "Delivery", "mail": mail,
                "delivery": {"timestamp": stamp, "recipients": [address]}}
    if kind == "complaint":
        return {"notificationType": "Complaint", "mail": mail, "complaint": {
            "timestamp": stamp, "feedbackId": f"fb-{ref}",
            "complainedRecipients": [{"emailAddress": address}]}}
    return ses_bounce(address, feedback_id=f"fb-{ref}", message_id=f"msg-{ref}", when=when,
                      bounce_type="Permanent" if kind == "hard" else "Transient")


sequences = st.lists(st.tuples(st.sampled_from(["soft", "soft", "delivery", "hard",
                                                "complaint"]),
                               st.integers(0, 9 * 24)), min_size=1, max_size=8)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequences, st.randoms(use_true_random=False))
def test_duplicated_and_reordered_deliveries_end_where_one_in_order_delivery_does(
        hook: Hook, sequence: list[tuple[str, int]], rnd: random.Random) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    run = uuid.uuid4().hex[:8]
    in_order, messy = f"a-{run}@example.com", f"b-{run}@example.com"
    for i, (kind, hours) in enumerate(sequence):
        report = _report(kind, in_order, f"{run}-a{i}", start + timedelta(hours=hours))
        assert hook.post(hook.signer.notification(report)).status_code == 200
    deliveries = [hook.signer.notification(_report(kind, messy, f"{run}-b{i}",
                                                   start + timedelta(hours=hours)))
                  for i, (kind, hours) in enumerate(sequence)]
    deliveries += rnd.sample(deliveries, k=min(3, len(deliveries)))
    rnd.shuffle(deliveries)
    for envelope in deliveries:
        assert hook.post(envelope).status_code == 200
    expected, actual = hook.status(in_order), hook.status(messy)
    assert actual["status"] == expected["status"]
    assert actual["counts"] == expected["counts"]
