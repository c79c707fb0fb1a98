"""The senders pages: sender-side rejections by class beside the rates, and the warning
that says which kind (blocklist or authentication…) with the diagnostic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.services import Services
from domain.reports import Bounce, Sent

Console = Callable[[str], TestClient]
SPAMHAUS = ("smtp; 554 5.7.1 <listed@example.com>: Client host rejected: blocked using "
            "zen.spamhaus.org <b>see</b>")
DKIM = "550 5.7.30 This mail has been blocked because DKIM does not pass."


def refuse(services: Services, count: int, diagnostic: str, code: str, start: int = 0) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    services.ledger.record(*[Sent(f"r{i}@example.com", f"m{i}", now, "api",
                                  sender="shop.example") for i in range(start, start + 50)])
    services.ledger.record(*[Bounce(f"r{i}@example.com", f"f{i}", "Permanent", "General", now,
                                    "sns", diagnostic=diagnostic, status_code=code,
                                    sender="shop.example")
                             for i in range(start, start + count)])


def test_the_list_shows_rejections_by_class_and_the_warning(console: Console,
                                                            services: Services) -> None:
    refuse(services, 12, SPAMHAUS, "5.7.1")
    page = console("viewer").get("/console/senders").text
    assert "Sender-side rejections (7 days)" in page
    assert "12 (blocklist / reputation: 12)" in page
    assert "Warning: blocklist / reputation" in page


def test_the_sender_page_says_blocklist_with_the_diagnostic(console: Console,
                                                           services: Services) -> None:
    refuse(services, 12, SPAMHAUS, "5.7.1")
    page = console("viewer").get("/console/senders/shop.example").text
    assert "Receiving servers are refusing this sender: blocklist / reputation" in page
    assert "the sending IP or domain is on the Spamhaus blocklist" in page
    assert "zen.spamhaus.org &lt;b&gt;see&lt;/b&gt;" in page
    assert "listed@example.com" not in page and "[address]" in page
    assert "ask for removal" in page
    assert '<span class="badge state-warned">warned</span>' in page
    assert "Sender-side rejections (the recipients stay sendable)" in page


def test_the_sender_page_says_authentication(console: Console, services: Services) -> None:
    refuse(services, 11, DKIM, "5.7.30")
    page = console("viewer").get("/console/senders/shop.example").text
    assert "Receiving servers are refusing this sender: authentication" in page
    assert "DKIM signature was missing or did not verify" in page
    assert "DMARC policy" in page  # the advice


def test_without_a_spike_there_is_no_warning_but_the_counts_show(console: Console,
                                                                 services: Services) -> None:
    refuse(services, 2, DKIM, "5.7.30")
    page = console("viewer").get("/console/senders/shop.example").text
    assert "Receiving servers are refusing this sender" not in page
    assert "Latest refusal of each kind" in page and "authentication" in page


def test_the_timeline_says_who_failed_on_every_bounce(console: Console,
                                                      services: Services) -> None:
    now = datetime.now(UTC)
    services.ledger.record(
        Bounce("both@example.com", "f1", "Permanent", "General", now, "sns",
               diagnostic=SPAMHAUS, status_code="5.7.1", sender="shop.example"),
        Bounce("both@example.com", "f2", "Transient", "General", now, "sns",
               diagnostic="smtp; 452 4.2.2 Mailbox full", status_code="4.2.2"))
    page = console("viewer").get("/console/addresses/both@example.com").text
    assert '<li class="event event-SenderRejected">' in page
    assert ('<p class="why">Refused by the receiving server because the sending IP or domain '
            "is on the Spamhaus blocklist — not the recipient&#39;s fault</p>") in page
    assert '<p class="why">The recipient&#39;s mailbox is full.</p>' in page
    assert "Who failed (class)" in page and "sender_reputation" in page
