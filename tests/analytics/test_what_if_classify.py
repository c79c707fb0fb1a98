"""what-if --classify: the history replayed under the bounce classifier lists exactly the
addresses blocked for the sender's problem; --apply resets them with the reason."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.services import Services
from domain.reports import Bounce, Complaint
from projections.reclassify import Reclassifier, still_unblocks, unblocks
from projections.what_if import compare
from tests.domain.helpers import unclassified_hard_bounce

T0 = datetime.now(UTC) - timedelta(days=3)
SPAMHAUS = ("smtp;550 5.7.1 Service unavailable, Client host [x.xx.xx.xx] blocked using "
            "Spamhaus. To request removal from this list see (AS16012611)")
GMAIL_FULL = ("smtp; 552-5.2.2 The recipient's inbox is out of storage space and inactive. "
              "Please 552-5.2.2 direct the recipient to 552 5.2.2 https://support.google.com/"
              "mail/?p=OverQuotaPerm c2-202229zmZBNM3agi23.222 - gsmtp")
NO_SUCH_USER = "smtp; 550 5.1.1 user unknown"
runner = CliRunner()


def before_the_classifier(services: Services, address: str, diagnostic: str, code: str,
                          fid: str, at: datetime = T0) -> None:
    """A hard bounce stored as the code before the classifier stored it: no class."""
    services.ledger.apply_commands([(address, lambda agg: unclassified_hard_bounce(
        agg, message_id=f"m-{fid}", feedback_id=fid, diagnostic=diagnostic, status_code=code,
        occurred_at=at))])


def seed(services: Services) -> None:
    before_the_classifier(services, "listed@example.com", SPAMHAUS, "5.7.1", "f1")
    before_the_classifier(services, "full@example.com", GMAIL_FULL, "5.2.2", "f2")
    before_the_classifier(services, "gone@example.com", NO_SUCH_USER, "5.1.1", "f3")
    before_the_classifier(services, "angry@example.com", SPAMHAUS, "5.7.1", "f4")
    services.ledger.record(Complaint("angry@example.com", "c1", T0, "sns",
                                     feedback_type="abuse"))
    before_the_classifier(services, "twice@example.com", SPAMHAUS, "5.7.1", "f5")
    before_the_classifier(services, "twice@example.com", NO_SUCH_USER, "5.1.1", "f6",
                          T0 + timedelta(hours=1))
    services.ledger.record(Bounce("new@example.com", "f7", "Permanent", "General", T0, "sns",
                                  diagnostic=SPAMHAUS, status_code="5.7.1"))


def test_the_replay_lists_exactly_the_addresses_blocked_for_the_sender(
        services: Services) -> None:
    seed(services)
    assert services.reader.status("listed@example.com")["status"] == "bounced"
    reclassifier = Reclassifier()
    policy = services.ledger.policy
    outcome = compare(services.ledger, policy, policy, datetime.now(UTC),
                      transform=reclassifier)
    rows = unblocks(outcome, reclassifier)
    assert [(r.address, r.current.status, r.proposed.status) for r in rows] == [
        ("full@example.com", "bounced", "soft_bounced"),
        ("listed@example.com", "bounced", "ok")]
    assert [(r.because.failure_class, r.because.rule) for r in rows if r.because] == [
        ("mailbox_full", "mailbox_full"), ("sender_reputation", "spamhaus_listed")]
    assert rows[1].reason.startswith("what-if --classify: Refused by the receiving server")


def test_a_block_that_arrives_after_the_replay_is_not_lifted(services: Services) -> None:
    seed(services)
    assert still_unblocks(services.ledger, "listed@example.com")
    services.ledger.record(Bounce("listed@example.com", "late", "Permanent", "General",
                                  datetime.now(UTC), "sns", diagnostic=NO_SUCH_USER,
                                  status_code="5.1.1"))
    assert not still_unblocks(services.ledger, "listed@example.com")
    assert not still_unblocks(services.ledger, "gone@example.com")


@pytest.fixture
def cli_env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", services.settings.database_url)
    seed(services)
    return services


def test_the_cli_prints_the_count_and_writes_the_csv(cli_env: Services) -> None:
    before = cli_env.ledger.recorder.max_notification_id()
    result = runner.invoke(app, ["what-if", "--classify", "--csv", "-"])
    assert result.exit_code == 0, result.output
    assert ("2 address(es) blocked today that the classifier would not block"
            in result.stderr)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["address"], r["failure_class"], r["rule"]) for r in rows] == [
        ("full@example.com", "mailbox_full", "mailbox_full"),
        ("listed@example.com", "sender_reputation", "spamhaus_listed")]
    assert rows[1]["diagnostic"] == SPAMHAUS and rows[1]["current_reason"] == "hard_bounce"
    assert cli_env.ledger.recorder.max_notification_id() == before


def test_apply_resets_them_with_the_reason_after_confirmation(cli_env: Services) -> None:
    declined = runner.invoke(app, ["what-if", "--classify", "--apply"], input="n\n")
    assert declined.exit_code == 1 and "nothing reset" in declined.stderr
    assert cli_env.reader.status("listed@example.com")["status"] == "bounced"
    done = runner.invoke(app, ["what-if", "--classify", "--apply", "--actor", "ops"],
                         input="y\n")
    assert done.exit_code == 0, done.output
    assert "reset 2 address(es)" in done.stdout
    cli_env.projector.catch_up()
    assert cli_env.reader.status("listed@example.com")["status"] == "ok"
    assert cli_env.reader.status("full@example.com")["status"] == "ok"
    assert cli_env.reader.status("gone@example.com")["status"] == "bounced"
    assert cli_env.reader.status("angry@example.com")["status"] == "complained"
    reset = cli_env.ledger.history("listed@example.com")[-1]
    assert (type(reset).__name__, reset.actor, reset.source) == ("StatusReset", "ops", "cli")
    assert reset.reason.startswith("what-if --classify: Refused by the receiving server "
                                   "because the sending IP or domain is on the Spamhaus")
    again = runner.invoke(app, ["what-if", "--classify", "--apply", "--yes"])
    assert again.exit_code == 0 and "0 address(es) blocked today" in again.stdout


@pytest.mark.parametrize("args", [["what-if", "--apply"],
                                  ["what-if", "--classify", "--soft-bounce-limit", "2"]])
def test_options_that_do_not_go_together_exit_2(cli_env: Services, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "error:" in result.stderr
