"""Sender-side rejections charged to the sender (SPEC §3.1), on SQLite and PostgreSQL:
counts by class beside the rates, the latest diagnostic without addresses, the spike warning
(which kind, with the diagnostic) and the warned state it brings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from domain.reports import Bounce, Sent
from tests.conftest import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SPAMHAUS = ("smtp;550 5.7.1 Service unavailable, Client host [x.xx.xx.xx] blocked using "
            "Spamhaus. To request removal from this list see (AS16012611)")
SPECTRUM = ("smtp; 550 5.1.0 <0100017-000000@amazonses.com> sender rejected. Please see "
            "https://www.spectrum.net/support/internet/understanding-email-error-codes for more "
            "information. AUP#In-1310")
DMARC = ("smtp; 550 5.7.1 Email rejected per DMARC policy for shop.example")


def rejected(i: int, when: datetime, diagnostic: str = SPAMHAUS, code: str = "5.7.1",
             sender: str = "shop.example") -> Bounce:
    return Bounce(f"r{i}@example.com", f"rej-{sender}-{i}", "Permanent", "General", when, "sns",
                  diagnostic=diagnostic, status_code=code, sender=sender)


def sent(count: int, when: datetime, sender: str = "shop.example") -> list[Sent]:
    return [Sent(f"r{i}@example.com", f"m-{sender}-{i}", when, "api", sender=sender)
            for i in range(count)]


def test_rejections_are_counted_by_class_beside_the_rates(services: Services) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    services.ledger.record(*sent(100, now - timedelta(hours=2)))
    services.ledger.record(rejected(1, now - timedelta(hours=1)),
                           rejected(2, now - timedelta(hours=1), DMARC),
                           rejected(3, now - timedelta(days=10)))
    report = services.senders.report("shop.example", now.date(), now)
    week = report["last_7_days"]
    assert week["sender_rejections"] == {"sender_reputation": 1, "sender_auth": 1,
                                         "content": 0, "policy": 0}
    assert (week["sender_rejections_total"], week["sender_rejection_rate"]) == (2, 0.02)
    assert (week["hard_bounces"], week["bounce_rate"]) == (0, 0.0)
    assert report["last_30_days"]["sender_rejections_total"] == 3
    assert report["last_24_hours"]["total"] == 2 and report["last_24_hours"]["sent"] == 100
    assert report["rejection_alert"] is None
    assert sum(day["sender_rejections"] for day in report["daily"]) == 3
    assert services.senders.state("shop.example")["state"] == "active"


def test_the_latest_diagnostic_is_kept_without_addresses(services: Services) -> None:
    now = datetime.now(UTC)
    services.ledger.record(rejected(1, now - timedelta(minutes=30), SPECTRUM, "5.1.0"))
    latest = services.senders.report("shop.example", now.date(), now)["latest_rejections"]
    assert [x["failure_class"] for x in latest] == ["policy"]
    assert "@" not in latest[0]["diagnostic"] and "[address]" in latest[0]["diagnostic"]
    assert "not the recipient's fault" in latest[0]["words"]


def test_a_spike_of_blocklist_rejections_warns_and_says_which(services: Services) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    services.ledger.record(*sent(100, start))
    services.ledger.record(*[rejected(i, start + timedelta(minutes=i)) for i in range(12)])
    state = services.senders.state("shop.example")
    assert (state["state"], state["rule"]) == ("warned", "sender_rejections")
    assert "blocklist / reputation" in state["detail"] and "Spamhaus" in state["detail"]
    with TestClient(create_app(services=services)) as client:
        report = client.get("/v1/senders/shop.example", headers=AUTH).json()
    alert = report["rejection_alert"]
    assert (alert["failure_class"], alert["label"], alert["total"], alert["sent"]) == (
        "sender_reputation", "blocklist / reputation", 12, 100)
    assert alert["rule"] == "spamhaus_listed" and "Spamhaus" in alert["diagnostic"]
    for i in range(12):
        assert services.reader.status(f"r{i}@example.com")["status"] == "ok"


def test_occasional_rejections_among_many_sends_do_not_warn(services: Services) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    services.ledger.record(*sent(1000, start))
    services.ledger.record(*[rejected(i, start + timedelta(minutes=i)) for i in range(12)])
    assert services.senders.state("shop.example")["state"] == "active"


def test_a_sender_seen_only_through_rejections_is_listed(services: Services) -> None:
    now = datetime.now(UTC)
    services.ledger.record(rejected(1, now, sender="only-refused.example"))
    assert "only-refused.example" in services.senders.names()


def test_rebuilding_sender_rejections_equals_the_live_view(services: Services) -> None:
    now = datetime.now(UTC)
    services.ledger.record(*[rejected(i, now - timedelta(hours=i)) for i in range(5)],
                           rejected(9, now, DMARC))
    outcome = services.rebuild("sender_rejections", verify=True)
    assert outcome.differences == []
