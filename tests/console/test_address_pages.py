"""The address list, CSV export and the address page with its reset and suppress forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.console import address_routes
from api.services import Services
from domain.reports import Bounce, Complaint, Delivery, Sent
from tests.console.conftest import csrf_of, tampered

T0 = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
Console = Callable[[str], TestClient]


def bounce(services: Services, address: str, diagnostic: str = "smtp; 550 5.1.1 user unknown",
           fid: str = "fb-1") -> None:
    services.ledger.record(
        Sent(address, "msg-1", T0, "api", sender="shop.example", profile_id="p-1"),
        Bounce(address, fid, "Permanent", "General", T0, "sns", message_id="msg-1",
               diagnostic=diagnostic, sender="shop.example"))


def complain(services: Services, address: str) -> None:
    services.ledger.record(Complaint(address, "k-1", T0, "sns", feedback_type="abuse"))


def events(services: Services, address: str) -> list[str]:
    return [type(e).__name__ for e in services.ledger.history(address)]


def test_list_shows_badge_reason_diagnostic_counts_and_change(console: Console,
                                                              services: Services) -> None:
    bounce(services, "gone@example.com")
    page = console("viewer").get("/console/addresses").text
    assert '<a href="/console/addresses/gone@example.com">gone@example.com</a>' in page
    assert '<span class="badge badge-bounced">Bounced</span>' in page
    assert "hard_bounce" in page and "smtp; 550 5.1.1 user unknown" in page
    assert "1 sent" in page and "1 hard" in page
    assert "<h1>Addresses that are not OK</h1>" in page


def test_list_has_a_clear_empty_state(console: Console) -> None:
    page = console("viewer").get("/console/addresses").text
    assert "Every address seen is sendable" in page
    assert "No address contains “zzz”" in console("viewer").get("/console/addresses?q=zzz").text


def test_list_filters_and_searches(console: Console, services: Services) -> None:
    bounce(services, "gone@example.com")
    complain(services, "angry@example.org")
    client = console("viewer")
    complained = client.get("/console/addresses?status=complained").text
    assert "angry@example.org" in complained and "gone@example.com" not in complained
    found = client.get("/console/addresses?q=gone").text
    assert "gone@example.com" in found and "angry@example.org" not in found


def test_list_pages_with_a_next_link(console: Console, services: Services,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(address_routes, "PAGE", 2)
    for i in range(3):
        bounce(services, f"user{i}@example.com", fid=f"f{i}")
    client = console("viewer")
    first = client.get("/console/addresses?status=bounced").text
    assert "user2@example.com" in first and "user0@example.com" not in first
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(link.replace("&amp;", "&")).text
    assert "user0@example.com" in second and "user2@example.com" not in second
    assert "First page" in second and 'rel="next"' not in second


def test_list_refuses_an_unknown_status_and_a_bad_cursor(console: Console) -> None:
    client = console("viewer")
    assert client.get("/console/addresses?status=gone").status_code == 422
    response = client.get("/console/addresses?cursor=nope")
    assert response.status_code == 400 and "cursor is not one" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_csv_exports_the_current_filter_and_defuses_formulas(console: Console,
                                                              services: Services) -> None:
    bounce(services, "gone@example.com", diagnostic="=HYPERLINK(\"http://x\")")
    complain(services, "angry@example.org")
    response = console("viewer").get("/console/addresses.csv?status=bounced")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="addresses-bounced.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["address"] for r in rows] == ["gone@example.com"]
    assert rows[0]["diagnostic"] == "'=HYPERLINK(\"http://x\")"
    assert (rows[0]["hard_bounces"], rows[0]["sendable"]) == ("1", "False")


def test_address_page_says_why_and_since_when(console: Console, services: Services) -> None:
    bounce(services, "gone@example.com")
    page = console("viewer").get("/console/addresses/Gone@Example.com").text
    assert ("Not sendable since 2026-04-01 09:30 UTC: the receiving server refused mail "
            "permanently (hard bounce).") in page
    assert "Diagnostic: smtp; 550 5.1.1 user unknown" in page


def test_timeline_shows_every_event_with_its_details(console: Console,
                                                     services: Services) -> None:
    bounce(services, "gone@example.com")
    page = console("viewer").get("/console/addresses/gone@example.com").text
    for text in ("HardBounced", "MessageSent", "Registered", "<dt>Feedback id</dt><dd>fb-1</dd>",
                 "<dt>Message id</dt><dd>msg-1</dd>", "<dt>Subtype</dt><dd>General</dd>",
                 "<dt>Sender</dt><dd>shop.example</dd>", "<dt>Source</dt><dd>sns</dd>",
                 "<dt>Diagnostic</dt><dd>smtp; 550 5.1.1 user unknown</dd>"):
        assert text in page, text


def test_long_timelines_page_to_older_events(console: Console, services: Services,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(address_routes, "TIMELINE_PAGE", 2)
    services.ledger.record(*(Delivery("busy@example.com", f"m{i}", T0, "sns") for i in range(3)))
    client = console("viewer")
    newest = client.get("/console/addresses/busy@example.com").text
    assert "(version 4)" in newest and "(version 3)" in newest and "(version 2)" not in newest
    older = client.get("/console/addresses/busy@example.com?before=3").text
    assert "(version 2)" in older and "(version 1)" in older and "(version 4)" not in older


def test_an_unknown_address_was_never_seen_and_is_sendable(console: Console) -> None:
    response = console("viewer").get("/console/addresses/new@example.com")
    assert response.status_code == 200
    assert "Never seen: sendable." in response.text
    assert "No event has been recorded for this address." in response.text


def test_an_invalid_address_is_an_error_page(console: Console) -> None:
    response = console("viewer").get("/console/addresses/not-an-address")
    assert response.status_code == 422
    assert "not an email address" in response.text and "<h1>Not valid</h1>" in response.text


def test_lookup_opens_the_normalized_address_or_a_profile(console: Console) -> None:
    client = console("viewer")
    response = client.get("/console/lookup?address=+Someone@Example.COM",
                          follow_redirects=False)
    assert response.headers["location"] == "/console/addresses/someone@example.com"
    response = client.get("/console/lookup?profile=a/b", follow_redirects=False)
    assert response.headers["location"] == "/console/profiles/a%2Fb"


def test_status_at_a_past_time_shows_the_rule(console: Console, services: Services) -> None:
    bounce(services, "gone@example.com")
    client = console("viewer")
    page = client.get("/console/addresses/gone@example.com?at=2000-01-01T00:00:00Z").text
    assert "At 2000-01-01 00:00 UTC:" in page and "no rule blocks it" in page
    now = client.get("/console/addresses/gone@example.com?at=2100-01-01T00:00:00Z").text
    assert "a permanent (hard) bounce" in now
    bad = client.get("/console/addresses/gone@example.com?at=yesterday")
    assert bad.status_code == 422 and "not an ISO 8601 time" in bad.text


def test_viewers_get_no_forms_and_their_posts_are_refused(console: Console,
                                                          services: Services) -> None:
    bounce(services, "gone@example.com")
    client = console("viewer")
    page = client.get("/console/addresses/gone@example.com").text
    assert "/reset" not in page and "/suppress" not in page
    for action in ("reset", "suppress"):
        response = client.post(f"/console/addresses/gone@example.com/{action}",
                               data={"reason": "r", "csrf_token": csrf_of(page)})
        assert response.status_code == 403 and "needs the operator role" in response.text
    assert events(services, "gone@example.com")[-1] == "HardBounced"


@pytest.mark.parametrize("action", ["reset", "suppress"])
def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(console: Console,
                                                             services: Services,
                                                             action: str) -> None:
    bounce(services, "gone@example.com")
    client = console("operator")
    token = csrf_of(client.get("/console/addresses/gone@example.com").text)
    path = f"/console/addresses/gone@example.com/{action}"
    for data in ({"reason": "r"}, {"reason": "r", "csrf_token": tampered(token)},
                 {"reason": "r", "csrf_token": ""}):
        response = client.post(path, data=data)
        assert response.status_code == 403 and "CSRF" in response.text
    assert events(services, "gone@example.com")[-1] == "HardBounced"


def test_a_csrf_token_of_another_session_is_refused(console: Console,
                                                    services: Services) -> None:
    bounce(services, "gone@example.com")
    other = csrf_of(console("admin").get("/console/addresses/gone@example.com").text)
    response = console("operator").post("/console/addresses/gone@example.com/reset",
                                        data={"reason": "r", "csrf_token": other})
    assert response.status_code == 403


def test_operator_resets_with_a_reason(console: Console, services: Services) -> None:
    bounce(services, "gone@example.com")
    client = console("operator")
    token = csrf_of(client.get("/console/addresses/gone@example.com").text)
    response = client.post("/console/addresses/gone@example.com/reset",
                           data={"reason": "mailbox fixed", "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/addresses/gone@example.com?done=reset"
    page = client.get(response.headers["location"]).text
    assert "Status reset." in page and '<span class="badge badge-ok">OK</span>' in page
    assert "<dt>Actor</dt><dd>operator-person</dd>" in page
    assert "<dt>Reason</dt><dd>mailbox fixed</dd>" in page
    assert "<dt>Source</dt><dd>console</dd>" in page
    assert "gone@example.com" not in client.get("/console/addresses").text


def test_reset_without_a_reason_is_refused_and_records_nothing(console: Console,
                                                               services: Services) -> None:
    bounce(services, "gone@example.com")
    client = console("operator")
    token = csrf_of(client.get("/console/addresses/gone@example.com").text)
    for reason in ("", "   "):
        response = client.post("/console/addresses/gone@example.com/reset",
                               data={"reason": reason, "csrf_token": token})
        assert response.status_code == 422 and "reason is required" in response.text
    too_long = client.post("/console/addresses/gone@example.com/reset",
                           data={"reason": "x" * 2001, "csrf_token": token})
    assert too_long.status_code == 422
    assert events(services, "gone@example.com")[-1] == "HardBounced"


def test_operator_suppresses_with_a_reason(console: Console, services: Services) -> None:
    client = console("operator")
    token = csrf_of(client.get("/console/addresses/hold@example.com").text)
    client.post("/console/addresses/hold@example.com/suppress",
                data={"reason": "legal hold", "csrf_token": token})
    page = client.get("/console/addresses/hold@example.com").text
    assert "Not sendable since" in page and "an operator suppressed it" in page
    assert "Reason given: legal hold" in page
    assert events(services, "hold@example.com")[-1] == "Suppressed"


def test_only_an_admin_with_consent_lifts_a_complaint(console: Console,
                                                      services: Services) -> None:
    complain(services, "angry@example.com")
    operator = console("operator")
    page = operator.get("/console/addresses/angry@example.com").text
    assert "/reset" not in page and "Only an admin can lift a complaint" in page
    refused = operator.post("/console/addresses/angry@example.com/reset",
                            data={"reason": "r", "consent": "yes", "csrf_token": csrf_of(page)})
    assert refused.status_code == 403 and "consent note" in refused.text
    admin = console("admin")
    page = admin.get("/console/addresses/angry@example.com").text
    assert 'name="consent"' in page
    no_consent = admin.post("/console/addresses/angry@example.com/reset",
                            data={"reason": "r", "csrf_token": csrf_of(page)})
    assert no_consent.status_code == 403
    assert events(services, "angry@example.com")[-1] == "Complained"
    admin.post("/console/addresses/angry@example.com/reset",
               data={"reason": "r", "consent": "opted in again", "csrf_token": csrf_of(page)})
    assert events(services, "angry@example.com")[-1] == "StatusReset"


def test_an_erased_address_shows_its_block_and_a_redacted_timeline(
        console: Console, services: Services) -> None:
    bounce(services, "gone@example.com")
    services.ledger.erasure_key = services.reader.erasure_key = b"console-test-key"
    services.ledger.erase("gone@example.com", actor="dpo", reason="art. 17", occurred_at=T0,
                          source="api")
    response = console("viewer").get("/console/addresses/gone@example.com")
    assert response.status_code == 200
    page = response.text
    for text in ("HardBounced", "MessageSent", "Erased", "art. 17", "dpo"):
        assert text in page, text
    assert "550 5.1.1" not in page and "shop.example" not in page
