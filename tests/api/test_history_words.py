"""History (API, CLI) says who failed in plain words on every bounce (SPEC §3.1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.services import Services
from domain.reports import Bounce
from tests.conftest import ADMIN_TOKEN
from tests.domain.helpers import unclassified_hard_bounce

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 5, 1, 9, tzinfo=UTC)
SPAMHAUS = ("smtp;550 5.7.1 Service unavailable, Client host [x.xx.xx.xx] blocked using "
            "Spamhaus. To request removal from this list see (AS16012611)")


def record_before_the_classifier(services: Services, address: str, diagnostic: str) -> None:
    """A hard bounce as the code before the classifier stored it: no class, no rule."""
    services.ledger.apply_commands([(address, lambda agg: unclassified_hard_bounce(
        agg, message_id="m-old", feedback_id="f-old", diagnostic=diagnostic,
        status_code="5.7.1", occurred_at=NOW))])


def test_every_bounce_in_the_history_says_who_failed(client: TestClient,
                                                     services: Services) -> None:
    services.ledger.record(
        Bounce("mixed@example.com", "f1", "Permanent", "General", NOW, "sns",
               diagnostic=SPAMHAUS, status_code="5.7.1", sender="shop.example"),
        Bounce("mixed@example.com", "f2", "Permanent", "General", NOW, "sns",
               diagnostic="smtp; 550 5.1.1 user unknown", status_code="5.1.1"))
    events = client.get("/v1/addresses/mixed@example.com/history", headers=AUTH).json()["events"]
    words = {e["type"]: e["explanation"] for e in events}
    assert words["Registered"] is None
    assert words["SenderRejected"] == (
        "Refused by the receiving server because the sending IP or domain is on the Spamhaus "
        "blocklist — not the recipient's fault")
    assert words["HardBounced"] == "The recipient's address does not exist."


def test_an_old_bounce_says_what_it_counted_as_and_what_it_would_be_now(
        client: TestClient, services: Services) -> None:
    record_before_the_classifier(services, "old@example.com", SPAMHAUS)
    last = client.get("/v1/addresses/old@example.com/history", headers=AUTH).json()["events"][-1]
    assert last["data"]["failure_class"] is None
    assert last["explanation"].startswith(
        "Recorded before bounces were classified, and counted against the recipient as a "
        "hard bounce. The classifier would now say: Refused by the receiving server because "
        "the sending IP or domain is on the Spamhaus blocklist")
    assert client.get("/v1/addresses/old@example.com", headers=AUTH).json()["status"] == "bounced"


def test_the_cli_history_carries_the_words(services: Services,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    services.ledger.record(Bounce("cli@example.com", "f1", "Permanent", "General", NOW, "sns",
                                  diagnostic=SPAMHAUS, status_code="5.7.1"))
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", services.settings.database_url)
    result = CliRunner().invoke(app, ["history", "cli@example.com"])
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.splitlines()[-1])
    assert last["type"] == "SenderRejected" and "Spamhaus blocklist" in last["explanation"]
