"""SPEC §3.1 end to end through the signed webhook, on SQLite and PostgreSQL: who failed
decides whether the recipient is blocked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.application.escalation import escalate
from tests.api.test_webhook import AUTH, Hook, make_hook
from tests.sns_signing import ses_bounce

# Real diagnostics (sources in tests/domain/bounce_corpus.py).
GMAIL_NO_SUCH_USER = ("smtp; 550-5.1.1 The email account that you tried to reach does not "
                      "exist. Please try 550-5.1.1 double-checking the recipient's email address "
                      "for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 "
                      "https://support.google.com/mail/?p=NoSuchUser e22-n7GpZmsf093195.222 - "
                      "gsmtp")
MICROSOFT_EDGE_BLOCK = ("smtp; 550 5.4.1 [kijitora@example.org]: Recipient address rejected: "
                        "Access denied [NEKOCHAN.cat-neko22.prod.protection.outlook.com]")
SPAMHAUS = ("smtp;550 5.7.1 Service unavailable, Client host [x.xx.xx.xx] blocked using "
            "Spamhaus. To request removal from this list see (AS16012611)")
DMARC = ("smtp; 550-5.7.26 Unauthenticated email from libsisimai.org is not accepted due to "
         "550-5.7.26 domain's DMARC policy. Please contact the administrator of 550-5.7.26 "
         "libsisimai.org domain if this was a legitimate mail.")
YAHOO_DEFERRAL = ("smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.192 temporarily deferred due "
                  "to unexpected volume or user complaints - 4.16.55.1; see https://postmaster."
                  "verizonmedia.com/error-codes")
GMAIL_FULL = ("smtp; 552-5.2.2 The recipient's inbox is out of storage space and inactive. "
              "Please 552-5.2.2 direct the recipient to 552 5.2.2 https://support.google.com/"
              "mail/?p=OverQuotaPerm c2-202229zmZBNM3agi23.222 - gsmtp")


@pytest.fixture
def hook(database_url: str, tmp_path: Path) -> Iterator[Hook]:
    yield from make_hook(database_url, tmp_path)


def _bounce(hook: Hook, address: str, status: str, diagnostic: str, *,
            bounce_type: str = "Permanent", when: datetime | None = None) -> None:
    payload = ses_bounce(address, bounce_type=bounce_type, status=status,
                         diagnostic=diagnostic, when=when)
    response = hook.post(hook.signer.notification(payload))
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == 1


def _history(hook: Hook, address: str) -> list[dict]:
    response = hook.client.get(f"/v1/addresses/{address}/history", headers=AUTH)
    assert response.status_code == 200
    return response.json()["events"]


@pytest.mark.parametrize(("address", "status", "diagnostic"), [
    ("nobody@example.com", "5.1.1", GMAIL_NO_SUCH_USER),
    ("edge@example.com", "5.4.1", MICROSOFT_EDGE_BLOCK),
])
def test_a_recipient_side_bounce_blocks_the_address(hook: Hook, address: str, status: str,
                                                    diagnostic: str) -> None:
    _bounce(hook, address, status, diagnostic)
    got = hook.status(address)
    assert (got["status"], got["reason"], got["counts"]["hard_bounces"]) == (
        "bounced", "hard_bounce", 1)
    last = _history(hook, address)[-1]
    assert (last["type"], last["data"]["failure_class"]) == ("HardBounced", "recipient")


@pytest.mark.parametrize(("address", "status", "diagnostic", "failure_class"), [
    ("listed@example.com", "5.7.1", SPAMHAUS, "sender_reputation"),
    ("dmarc@example.com", "5.7.26", DMARC, "sender_auth"),
])
def test_a_sender_side_bounce_leaves_the_recipient_sendable(
        hook: Hook, address: str, status: str, diagnostic: str, failure_class: str) -> None:
    _bounce(hook, address, status, diagnostic)
    got = hook.status(address)
    assert (got["status"], got["sendable"], got["reason"]) == ("ok", True, None)
    assert got["counts"]["hard_bounces"] == 0
    check = hook.client.post("/v1/addresses:check", headers=AUTH,
                             json={"addresses": [address]}).json()["results"][0]
    assert check["sendable"] is True
    last = _history(hook, address)[-1]
    assert last["type"] == "SenderRejected"
    assert (last["data"]["failure_class"], last["data"]["diagnostic"]) == (failure_class,
                                                                          diagnostic)
    assert last["data"]["sender"] == "shop.example"


def test_transient_reputation_deferrals_never_escalate(hook: Hook) -> None:
    start = datetime.now(UTC) - timedelta(days=40)
    for day in (0, 5, 10, 15, 20):
        _bounce(hook, "deferred@example.com", "4.7.0", YAHOO_DEFERRAL, bounce_type="Transient",
                when=start + timedelta(days=day))
    got = hook.status("deferred@example.com")
    assert (got["status"], got["counts"]["soft_bounces"]) == ("ok", 0)
    assert escalate(hook.services.ledger, hook.services.db, datetime.now(UTC)) == 0
    assert hook.status("deferred@example.com")["status"] == "ok"
    assert {e["type"] for e in _history(hook, "deferred@example.com")[1:]} == {"SenderRejected"}


def test_a_full_mailbox_reported_permanent_is_a_soft_bounce(hook: Hook) -> None:
    _bounce(hook, "full@example.com", "5.2.2", GMAIL_FULL)
    got = hook.status("full@example.com")
    assert (got["status"], got["sendable"], got["counts"]["soft_bounces"]) == (
        "soft_bounced", True, 1)


def test_a_sender_rejection_does_not_end_or_extend_a_soft_streak(hook: Hook) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    _bounce(hook, "streak@example.com", "4.2.2", "smtp; 452 4.2.2 Mailbox full",
            bounce_type="Transient", when=start)
    _bounce(hook, "streak@example.com", "5.7.1", SPAMHAUS, when=start + timedelta(hours=1))
    got = hook.status("streak@example.com")
    assert (got["status"], got["counts"]["soft_bounces"]) == ("soft_bounced", 1)
    assert got["since"].startswith(start.strftime("%Y-%m-%dT%H:%M"))


def test_the_what_if_lists_exactly_the_wrongly_blocked_ones(
        hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    """History taken in through the webhook as before the classifier (every bounce counted
    against the recipient), then replayed: exactly the sender-side and full-mailbox blocks
    come out, and --apply lifts them."""
    import csv
    import io

    from typer.testing import CliRunner

    import domain.reports
    from api.cli import app
    from domain.failure_classes import UNCLASSIFIED

    with monkeypatch.context() as before:
        before.setattr(domain.reports, "classify", lambda *_: UNCLASSIFIED)
        _bounce(hook, "listed@example.com", "5.7.1", SPAMHAUS)
        _bounce(hook, "dmarc@example.com", "5.7.26", DMARC)
        _bounce(hook, "full@example.com", "5.2.2", GMAIL_FULL)
        _bounce(hook, "nobody@example.com", "5.1.1", GMAIL_NO_SUCH_USER)
        _bounce(hook, "edge@example.com", "5.4.1", MICROSOFT_EDGE_BLOCK)
    _bounce(hook, "today@example.com", "5.7.1", SPAMHAUS)  # with the classifier: never blocked
    assert hook.status("listed@example.com")["status"] == "bounced"
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", hook.services.settings.database_url)
    result = CliRunner().invoke(app, ["what-if", "--classify", "--csv", "-"])
    assert result.exit_code == 0, result.output
    assert "3 address(es) blocked today that the classifier would not block" in result.stderr
    listed = [(r["address"], r["failure_class"]) for r in csv.DictReader(io.StringIO(
        result.stdout))]
    assert listed == [("dmarc@example.com", "sender_auth"), ("full@example.com", "mailbox_full"),
                      ("listed@example.com", "sender_reputation")]
    applied = CliRunner().invoke(app, ["what-if", "--classify", "--apply", "--yes"])
    assert applied.exit_code == 0 and "reset 3 address(es)" in applied.stdout
    hook.services.projector.catch_up()
    assert [hook.status(a)["status"] for a, _ in listed] == ["ok", "ok", "ok"]
    assert [hook.status(a)["status"] for a in ("nobody@example.com", "edge@example.com")] == [
        "bounced", "bounced"]
