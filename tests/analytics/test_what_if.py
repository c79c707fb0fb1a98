"""what-if: the ledger replayed under other settings, nothing written."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from api.cli import app
from api.services import Services, build_services
from domain.reports import Bounce, Complaint, Delivery
from projections.what_if import compare
from tests.analytics.ledgers import Step, ledgers, play
from tests.conftest import make_settings

# Recorded now, happened two days ago: inside the default grace period, past a 1-day one.
T0 = datetime.now(UTC) - timedelta(days=2)


def seed(services: Services) -> None:
    services.ledger.record(
        Complaint("angry@example.com", "c1", T0, "sns", feedback_type="abuse"),
        Bounce("full@example.com", "s1", "Transient", "General", T0, "sns"),
        Bounce("full@example.com", "s2", "Transient", "General", T0 + timedelta(hours=5), "sns"),
        Bounce("gone@example.com", "h1", "Permanent", "General", T0, "sns"),
        Delivery("fine@example.com", "m1", T0, "sns"),
    )


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers)
def test_the_current_settings_change_nothing(services: Services, ledger: list[Step]) -> None:
    play(services, ledger)
    policy = services.ledger.policy
    assert compare(services.ledger, policy, policy, datetime.now(UTC)).changes == []


def test_other_limits_name_the_addresses_that_would_change(services: Services) -> None:
    seed(services)
    proposed = services.ledger.policy.__class__(soft_bounce_limit=2, complaint_limit=2)
    outcome = compare(services.ledger, services.ledger.policy, proposed, datetime.now(UTC))
    assert [(c.address, c.current.status, c.proposed.status) for c in outcome.changes] == [
        ("angry@example.com", "complained", "ok"),
        ("full@example.com", "soft_bounced", "bounced")]
    assert outcome.addresses == 4 and outcome.daily[-1][1:] == (2, 2)


def test_what_if_writes_nothing(services: Services) -> None:
    seed(services)
    before = services.ledger.recorder.max_notification_id()
    compare(services.ledger, services.ledger.policy,
            services.ledger.policy.__class__(complaint_limit=3), datetime.now(UTC))
    assert services.ledger.recorder.max_notification_id() == before
    assert services.reader.status("angry@example.com")["status"] == "complained"


def test_the_command_writes_csv_and_chart(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", url)
    built = build_services(make_settings(url))
    seed(built)
    built.close()
    result = CliRunner().invoke(app, [
        "what-if", "--complaint-limit", "2", "--grace-days", "1",
        "--csv", str(tmp_path / "w.csv"), "--chart", str(tmp_path / "w.png")])
    assert result.exit_code == 0, result.output
    assert "2 of 4 address(es) would change status" in result.stdout
    rows = list(csv.DictReader((tmp_path / "w.csv").open()))
    assert [(r["address"], r["proposed_status"], r["proposed_reason"]) for r in rows] == [
        ("angry@example.com", "ok", ""),
        ("full@example.com", "bounced", "transient_grace_expired")]
    assert (tmp_path / "w.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
