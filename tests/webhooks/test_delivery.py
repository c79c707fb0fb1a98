"""Deliveries to a real local receiver: signatures, retries, order, disabling, rotation."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from api.services import Services, build_services
from tests.conftest import make_settings
from tests.webhook_receiver import Receiver
from tests.webhooks.conftest import (
    FAST,
    deliveries,
    hard_bounce,
    reset,
    subscribe,
    suppress,
)


def wait_until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_delivery_verifies_with_the_reference_library(services: Services,
                                                        receiver: Receiver) -> None:
    endpoint, secret = subscribe(services, receiver.url)
    services.start_dispatcher()
    hard_bounce(services, "ann@example.org", "h1")
    receiver.wait_count(1)
    got = receiver.received[0]
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "address.blocked"
    assert payload["data"]["address"] == "ann@example.org"
    assert got.headers["content-type"] == "application/json"
    assert got.id == deliveries(services, endpoint.id)[0]["id"]


def test_a_500_is_retried_and_delivered_later(services: Services) -> None:
    receiver = Receiver([500, 500])
    try:
        endpoint, _ = subscribe(services, receiver.url)
        services.start_dispatcher()
        suppress(services, "ann@example.org")
        receiver.wait_count(3)
        wait_until(lambda: deliveries(services, endpoint.id)[0]["state"] == "delivered")
        record = deliveries(services, endpoint.id)[0]
        assert [a["status"] for a in record["attempts_log"]] == [500, 500, 200]
        assert "HTTP 500" in record["attempts_log"][0]["error"]
        assert len({r.id for r in receiver.received}) == 1  # the same webhook-id each time
    finally:
        receiver.close()


def test_a_receiver_that_is_down_gets_it_when_it_is_back(services: Services) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint, _ = subscribe(services, f"http://127.0.0.1:{port}/hooks")
    services.start_dispatcher()
    suppress(services, "ann@example.org")
    wait_until(lambda: deliveries(services, endpoint.id)[0]["attempts_log"])
    assert "ConnectError" in deliveries(services, endpoint.id)[0]["attempts_log"][0]["error"]
    receiver = Receiver(port=port)
    try:
        receiver.wait_count(1)
        wait_until(lambda: deliveries(services, endpoint.id)[0]["state"] == "delivered")
    finally:
        receiver.close()


def test_a_slow_receiver_times_out_and_is_retried(database_url: str) -> None:
    services = build_services(make_settings(database_url, **{**FAST, "webhook_timeout_s": 0.3}))
    receiver = Receiver([("slow", 1.0)])
    try:
        endpoint, _ = subscribe(services, receiver.url)
        services.start_dispatcher()
        suppress(services, "ann@example.org")
        wait_until(lambda: deliveries(services, endpoint.id)[0]["state"] == "delivered")
        log = deliveries(services, endpoint.id)[0]["attempts_log"]
        assert "Timeout" in log[0]["error"] and log[-1]["status"] == 200
    finally:
        receiver.close()
        services.close()


def test_a_slow_receiver_does_not_slow_ingest(database_url: str) -> None:
    services = build_services(make_settings(database_url, **{**FAST, "webhook_timeout_s": 5}))
    receiver = Receiver([("slow", 2.0)] * 10)
    try:
        subscribe(services, receiver.url)
        services.start_dispatcher()
        started = time.monotonic()
        for i in range(10):
            suppress(services, f"user{i}@example.org")
        assert time.monotonic() - started < 1.5  # every call answered long before 10 x 2 s
    finally:
        receiver.close()
        services.close()


def test_an_address_s_events_arrive_in_log_order(services: Services) -> None:
    receiver = Receiver([503, 503])  # the first delivery fails twice
    try:
        subscribe(services, receiver.url)
        suppress(services, "ann@example.org")
        reset(services, "ann@example.org")
        hard_bounce(services, "ann@example.org", "h1")
        suppress(services, "bob@example.org")
        services.start_dispatcher()
        receiver.wait_for(lambda got: len({r.id for r in got}) == 4)
        ann = [r.json()["type"] for r in receiver.received
               if r.json()["data"].get("address") == "ann@example.org"]
        firsts = list(dict.fromkeys(ann))
        assert ann[-3:] == ["address.blocked", "address.unblocked", "address.blocked"]
        assert firsts[:2] == ["address.blocked", "address.unblocked"]
    finally:
        receiver.close()


def test_an_endpoint_that_keeps_failing_is_disabled(database_url: str) -> None:
    settings = {**FAST, "webhook_max_attempts": 2, "webhook_disable_after": 2}
    services = build_services(make_settings(database_url, **settings))
    receiver = Receiver([500] * 4)
    try:
        endpoint, _ = subscribe(services, receiver.url)
        services.start_dispatcher()
        for address in ("a@example.org", "b@example.org"):
            suppress(services, address)
        assert services.webhooks is not None
        wait_until(lambda: not services.webhooks.get(endpoint.id).enabled)  # type: ignore
        disabled = services.webhooks.get(endpoint.id)
        assert "2 deliveries in a row failed" in (disabled.disabled_reason or "")
        suppress(services, "c@example.org")
        time.sleep(0.5)
        assert len(receiver.received) == 4  # nothing more is sent while disabled
        services.webhooks.change(endpoint.id, enabled=True)
        receiver.wait_for(lambda got: any(r.json()["data"].get("address") == "c@example.org"
                                          for r in got))
    finally:
        receiver.close()
        services.close()


def test_410_gone_disables_the_endpoint_at_once(services: Services) -> None:
    receiver = Receiver([410])
    try:
        endpoint, _ = subscribe(services, receiver.url)
        services.start_dispatcher()
        suppress(services, "ann@example.org")
        assert services.webhooks is not None
        wait_until(lambda: not services.webhooks.get(endpoint.id).enabled)  # type: ignore
        assert services.webhooks.get(endpoint.id).disabled_reason == (
            "the receiver answered 410 Gone")
    finally:
        receiver.close()


def test_during_a_rotation_both_secrets_verify(services: Services, receiver: Receiver) -> None:
    endpoint, old = subscribe(services, receiver.url)
    assert services.webhooks is not None
    new, until = services.webhooks.rotate(endpoint.id)
    services.start_dispatcher()
    suppress(services, "ann@example.org")
    receiver.wait_count(1)
    got = receiver.received[0]
    assert len(got.headers["webhook-signature"].split()) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)
    assert until > datetime.now(UTC).isoformat()


def test_after_the_overlap_only_the_new_secret_signs(services: Services) -> None:
    endpoint, old = subscribe(services, "http://127.0.0.1:9/hooks")
    assert services.webhooks is not None
    new, _ = services.webhooks.rotate(endpoint.id)
    later = datetime.now(UTC) + timedelta(hours=25)
    assert services.webhooks.endpoints.signing_secrets(endpoint.id, later) == [new]
    assert old in services.webhooks.endpoints.signing_secrets(endpoint.id, datetime.now(UTC))


def test_a_failed_delivery_can_be_sent_again(database_url: str) -> None:
    services = build_services(make_settings(database_url, **{**FAST,
                                                             "webhook_max_attempts": 1}))
    receiver = Receiver([500])
    try:
        endpoint, _ = subscribe(services, receiver.url)
        services.start_dispatcher()
        suppress(services, "ann@example.org")
        wait_until(lambda: deliveries(services, endpoint.id)[0]["state"] == "failed")
        assert services.webhooks is not None
        delivery = deliveries(services, endpoint.id)[0]
        services.webhooks.resend(endpoint.id, delivery["id"])
        wait_until(lambda: deliveries(services, endpoint.id)[0]["state"] == "delivered")
        assert [r.id for r in receiver.received] == [delivery["id"]] * 2
    finally:
        receiver.close()
        services.close()


@pytest.fixture
def two_dispatchers(database_url: str) -> Iterator[tuple[Services, Services]]:
    settings = {**FAST, "webhook_concurrency": 2, "webhook_timeout_s": 5}
    one = build_services(make_settings(database_url, **settings))
    two = build_services(make_settings(database_url, **settings))
    yield one, two
    one.close()
    two.close()


def test_the_concurrency_cap_holds_across_processes(
        two_dispatchers: tuple[Services, Services]) -> None:
    one, two = two_dispatchers
    receiver = Receiver(["hold"] * 6)
    try:
        subscribe(one, receiver.url)
        for i in range(6):
            suppress(one, f"user{i}@example.org")
        two.projector.catch_up()
        one.start_dispatcher()
        two.start_dispatcher()
        receiver.wait_count(2)
        time.sleep(0.5)
        assert len(receiver.received) == 2  # two in flight, the others wait
        receiver.release()
        receiver.wait_for(lambda got: len({r.id for r in got}) == 6)
        assert len(receiver.received) == 6  # nobody sent anything twice
    finally:
        receiver.close()
