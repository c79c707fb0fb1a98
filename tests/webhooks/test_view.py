"""The ``webhooks`` view writes the outbox from the log: on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from api.services import Services, build_services
from domain.reports import Bounce
from domain.sender import Judgement
from projections.webhooks import NotReplayable
from tests.conftest import make_settings
from tests.webhooks.conftest import (
    FAST,
    deliveries,
    hard_bounce,
    now,
    reset,
    sender_rejection,
    soft_bounce,
    subscribe,
    suppress,
    types,
)

URL = "http://127.0.0.1:9/hooks"  # never contacted: these tests do not dispatch


def test_status_changes_are_announced_in_log_order(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    soft_bounce(services, "ann@example.org", "s1")
    hard_bounce(services, "ann@example.org", "h1")
    reset(services, "ann@example.org")
    assert types(services, endpoint.id) == [
        "address.soft_bounced", "address.blocked", "address.unblocked"]


def test_the_payload_says_what_the_host_needs(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    hard_bounce(services, "ann@example.org", "h1")
    payload = deliveries(services, endpoint.id)[0]["payload"]
    assert payload["type"] == "address.blocked"
    assert payload["timestamp"].endswith("Z")
    data = payload["data"]
    assert (data["address"], data["status"], data["previous_status"], data["sendable"],
            data["reason"], data["cause"]) == (
        "ann@example.org", "bounced", "ok", False, "hard_bounce", "HardBounced")
    assert "550 5.1.1" in data["diagnostic"]


def test_events_that_change_no_status_announce_nothing(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    hard_bounce(services, "ann@example.org", "h1")
    hard_bounce(services, "ann@example.org", "h2")
    hard_bounce(services, "ann@example.org", "h1")  # a duplicate report
    assert types(services, endpoint.id) == ["address.blocked"]


def test_an_endpoint_gets_only_the_types_it_chose(services: Services) -> None:
    blocked_only, _ = subscribe(services, URL, ["address.blocked"])
    everything, _ = subscribe(services, URL)
    soft_bounce(services, "ann@example.org", "s1")
    suppress(services, "ann@example.org")
    assert types(services, blocked_only.id) == ["address.blocked"]
    assert types(services, everything.id) == ["address.soft_bounced", "address.blocked"]


def test_webhook_ids_are_stable_per_event_and_endpoint(services: Services) -> None:
    first, _ = subscribe(services, URL)
    second, _ = subscribe(services, URL)
    suppress(services, "ann@example.org")
    one, two = deliveries(services, first.id)[0], deliveries(services, second.id)[0]
    assert one["position"] == two["position"] and one["id"] != two["id"]
    assert one["id"].startswith("msg_") and "." not in one["id"]


def test_sender_state_changes_are_announced(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    services.ledger.judge_sender("shop.example", Judgement("warned", "bounce_rate", "6%"),
                                 occurred_at=now())
    services.ledger.judge_sender("shop.example", Judgement("paused", "bounce_rate", "11%"),
                                 occurred_at=now())
    services.ledger.resume_sender("shop.example", actor="admin", reason="fixed the list",
                                  occurred_at=now(), source="api")
    found = deliveries(services, endpoint.id)
    assert [d["type"] for d in found] == ["sender.warned", "sender.paused", "sender.resumed"]
    assert found[2]["payload"]["data"]["decided_by"] == "admin"


def test_catching_up_again_writes_nothing_twice(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    suppress(services, "ann@example.org")
    services.projector.catch_up()
    services.projector.catch_up()
    assert len(deliveries(services, endpoint.id)) == 1


def test_a_second_process_writes_each_delivery_once(services: Services,
                                                    database_url: str) -> None:
    endpoint, _ = subscribe(services, URL)
    other = build_services(make_settings(database_url, **FAST))
    try:
        for i in range(5):
            suppress(other if i % 2 else services, f"user{i}@example.org")
        other.projector.catch_up()
        services.projector.catch_up()
    finally:
        other.close()
    assert len(deliveries(services, endpoint.id)) == 5


def test_a_new_view_starts_at_the_head_of_the_log(database_url: str) -> None:
    """An operator upgrading: years of history are not announced, and a block from before
    is known, so lifting it is announced."""
    first = build_services(make_settings(database_url, **FAST))
    hard_bounce(first, "old@example.org", "h-old")
    with first.db.write() as cur:  # as if this release had never run on this database
        cur.execute("DELETE FROM projection_tracking WHERE name = 'webhooks'")
    first.close()
    services = build_services(make_settings(database_url, **FAST))
    try:
        endpoint, _ = subscribe(services, URL)
        services.projector.catch_up()
        assert types(services, endpoint.id) == []
        reset(services, "old@example.org")
        assert types(services, endpoint.id) == ["address.unblocked"]
    finally:
        services.close()


def test_the_view_cannot_be_rebuilt(services: Services) -> None:
    with pytest.raises(NotReplayable):
        services.rebuild("webhooks")


def test_an_erasure_blanks_every_payload_and_names_no_address(database_url: str) -> None:
    services = build_services(make_settings(database_url, erasure_key="k" * 32, **FAST))
    try:
        endpoint, _ = subscribe(services, URL)
        hard_bounce(services, "ann@example.org", "h1")
        services.ledger.erase("ann@example.org", actor="admin", reason="asked",
                              occurred_at=now(), source="api")
        found = deliveries(services, endpoint.id)
        assert [(d["type"], d["state"]) for d in found] == [
            ("address.blocked", "cancelled"), ("address.erased", "pending")]
        assert found[0]["payload"] == {"redacted": True}
        erased = found[1]["payload"]["data"]
        assert erased["status"] == "bounced" and erased["sendable"] is False
        assert "ann@example.org" not in json.dumps(found)
    finally:
        services.close()


def test_a_sender_side_rejection_is_announced_and_blocks_nothing(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    sender_rejection(services, "ann@example.org", "r1")
    [found] = deliveries(services, endpoint.id)
    data = found["payload"]["data"]
    assert found["type"] == "address.sender_rejected"
    assert (data["address"], data["status"], data["sendable"]) == ("ann@example.org", "ok", True)
    assert (data["failure_class"], data["rule"], data["status_code"], data["sender"]) == (
        "sender_reputation", "spamhaus_listed", "5.7.1", "shop.example")
    assert data["feedback_id"] == "r1" and data["occurred_at"].endswith("Z")


def test_every_change_inside_one_batch_is_announced_in_order(services: Services) -> None:
    endpoint, _ = subscribe(services, URL)
    services.ledger.record(
        Bounce("ann@example.org", "s1", "Transient", "General", now(), "sns"),
        Bounce("ann@example.org", "h1", "Permanent", "General", now(), "sns",
               diagnostic="smtp; 550 5.1.1 user unknown"),
        Bounce("bob@example.org", "h2", "Permanent", "General", now(), "sns",
               diagnostic="smtp; 550 5.1.1 user unknown"))
    found = deliveries(services, endpoint.id)
    assert [(d["type"], d["payload"]["data"]["address"]) for d in found] == [
        ("address.soft_bounced", "ann@example.org"), ("address.blocked", "ann@example.org"),
        ("address.blocked", "bob@example.org")]
    assert found[1]["payload"]["data"]["previous_status"] == "soft_bounced"


def test_while_nobody_listens_the_view_writes_nothing(services: Services) -> None:
    with services.db.write() as cur:
        before = services.db.counter.statements
        assert services.projector.views[-1].apply(cur, []) == 0
        assert services.db.counter.statements == before
