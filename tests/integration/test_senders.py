"""Sender reputation end to end: counts from address events, rules, state events, resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from domain.reports import Bounce, Complaint, Sent
from tests.conftest import ADMIN_TOKEN

NOW = datetime(2026, 5, 1, 10, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def sends(sender: str, count: int, start: int = 0) -> list[Sent]:
    return [Sent(f"r{i}@example.com", f"m-{sender}-{i}", NOW, "api", sender=sender)
            for i in range(start, start + count)]


def test_hard_bounce_burst_pauses_the_sender_and_says_why(services: Services) -> None:
    services.ledger.record(*sends("guesser", 30))
    services.ledger.record(*[Bounce(f"r{i}@example.com", f"f{i}", "Permanent", "General",
                                    NOW + timedelta(minutes=5), "sns", sender="guesser")
                             for i in range(20)])
    state = services.senders.state("guesser")
    assert (state["state"], state["rule"], state["decided_by"]) == (
        "paused", "hard_bounce_burst", "rules")


def test_below_minimum_volume_nothing_changes(services: Services) -> None:
    services.ledger.record(*sends("small", 10))
    services.ledger.record(*[Bounce(f"r{i}@example.com", f"f{i}", "Permanent", "General",
                                    NOW, "sns", sender="small") for i in range(5)])
    assert services.senders.state("small")["state"] == "active"


def test_virus_complaint_pauses_and_admin_resumes(services: Services) -> None:
    now = datetime.now(UTC)  # the API reports the 7 days up to today
    services.ledger.record(*[Sent(f"r{i}@example.com", f"m{i}", now, "api", sender="mailer")
                             for i in range(3)])
    services.ledger.record(Complaint("r1@example.com", "k1", now, "sns", feedback_type="virus",
                                     sender="mailer"))
    assert services.senders.state("mailer")["state"] == "paused"
    with TestClient(create_app(services=services)) as client:
        report = client.get("/v1/senders/mailer", headers=AUTH).json()
        assert report["state"] == "paused" and report["last_7_days"]["sent"] == 3
        assert report["last_7_days"]["complaints"] == 1
        resumed = client.post("/v1/senders/mailer/resume", json={"reason": "false alarm"},
                              headers=AUTH).json()
        assert (resumed["state"], resumed["decided_by"]) == ("active", "bootstrap")
        listed = client.get("/v1/senders", headers=AUTH).json()["senders"]
        assert [s["sender"] for s in listed] == ["mailer"]
        assert client.get("/v1/senders/nobody", headers=AUTH).status_code == 404
