"""The profile page (banner, email change) and the senders pages (rates, chart, resume)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.services import Services
from domain.reports import Bounce, Complaint, Sent
from tests.console.conftest import csrf_of

Console = Callable[[str], TestClient]
NOW = datetime.now(UTC)


def profile_at(services: Services, profile: str, address: str) -> None:
    services.ledger.record(Sent(address, f"m-{address}", NOW, "api", sender="shop.example",
                                profile_id=profile))


def hard_bounce(services: Services, address: str) -> None:
    services.ledger.record(Bounce(address, f"f-{address}", "Permanent", "General", NOW, "sns",
                                  diagnostic="smtp; 550 5.1.1 mailbox does not exist",
                                  sender="shop.example"))


def test_profile_banner_shows_the_aws_diagnostic(console: Console, services: Services) -> None:
    profile_at(services, "user-7", "old@example.com")
    hard_bounce(services, "old@example.com")
    page = console("viewer").get("/console/profiles/user-7").text
    assert "We can't deliver email to old@example.com." in page
    assert "smtp; 550 5.1.1 mailbox does not exist" in page
    assert '<span class="badge badge-bounced">Bounced</span>' in page


def test_profile_of_a_fine_address_has_no_banner(console: Console, services: Services) -> None:
    profile_at(services, "user-8", "fine@example.com")
    page = console("viewer").get("/console/profiles/user-8").text
    assert "can't deliver" not in page and "fine@example.com" in page


def test_an_unknown_profile_is_a_404_page(console: Console) -> None:
    response = console("viewer").get("/console/profiles/nobody")
    assert response.status_code == 404
    assert "No profile “nobody” has been recorded" in response.text


def test_viewers_cannot_change_an_email(console: Console, services: Services) -> None:
    profile_at(services, "user-7", "old@example.com")
    client = console("viewer")
    page = client.get("/console/profiles/user-7").text
    assert 'name="email"' not in page
    response = client.post("/console/profiles/user-7/email",
                           data={"email": "new@example.com", "csrf_token": csrf_of(page)})
    assert response.status_code == 403
    assert services.reader.profile("user-7")["address"] == "old@example.com"


def test_email_change_needs_csrf(console: Console, services: Services) -> None:
    profile_at(services, "user-7", "old@example.com")
    response = console("operator").post("/console/profiles/user-7/email",
                                        data={"email": "new@example.com"})
    assert response.status_code == 403
    assert services.reader.profile("user-7")["address"] == "old@example.com"


def test_email_change_shows_the_new_address_status_at_once(console: Console,
                                                           services: Services) -> None:
    profile_at(services, "user-7", "old@example.com")
    hard_bounce(services, "also-bad@example.com")
    client = console("operator")
    token = csrf_of(client.get("/console/profiles/user-7").text)
    response = client.post("/console/profiles/user-7/email",
                           data={"email": "Also-Bad@Example.com", "csrf_token": token})
    assert response.status_code == 200
    assert "Email changed." in response.text
    assert "We can't deliver email to also-bad@example.com." in response.text


def test_email_change_refuses_an_invalid_address(console: Console, services: Services) -> None:
    profile_at(services, "user-7", "old@example.com")
    client = console("operator")
    token = csrf_of(client.get("/console/profiles/user-7").text)
    response = client.post("/console/profiles/user-7/email",
                           data={"email": "nope", "csrf_token": token})
    assert response.status_code == 422 and "not an email address" in response.text


def pause_with_a_virus(services: Services, sender: str) -> None:
    services.ledger.record(Sent("v@example.com", "m-v", NOW, "api", sender=sender))
    services.ledger.record(Complaint("v@example.com", "k-v", NOW, "sns", feedback_type="virus",
                                     sender=sender))


def test_senders_page_lists_rates_and_states(console: Console, services: Services) -> None:
    pause_with_a_virus(services, "bad.example")
    profile_at(services, "p", "fine@example.com")
    page = console("viewer").get("/console/senders").text
    assert "bad.example" in page and "shop.example" in page
    assert '<span class="badge state-paused">paused</span>' in page
    assert "warn at 5.00 %" in page


def test_senders_page_has_an_empty_state(console: Console) -> None:
    assert "No sender has been seen yet" in console("viewer").get("/console/senders").text


def test_sender_page_draws_the_daily_chart(console: Console, services: Services) -> None:
    profile_at(services, "p", "fine@example.com")
    page = console("viewer").get("/console/senders/shop.example").text
    assert page.count('<svg class="chart"') == 3
    assert 'role="img"' in page and "warn at 5.00 % (amber)" in page
    assert "<title>pause 10.00 %</title>" in page
    assert f"{NOW.date().isoformat()}: 1</title>" in page


def test_an_unknown_sender_is_a_404_page(console: Console) -> None:
    assert console("viewer").get("/console/senders/nobody.example").status_code == 404


def test_only_admins_resume_a_paused_sender(console: Console, services: Services) -> None:
    pause_with_a_virus(services, "bad.example")
    operator = console("operator")
    page = operator.get("/console/senders/bad.example").text
    assert "virus_complaint" in page and "/resume" not in page
    refused = operator.post("/console/senders/bad.example/resume",
                            data={"reason": "cleaned", "csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    admin = console("admin")
    page = admin.get("/console/senders/bad.example").text
    assert admin.post("/console/senders/bad.example/resume",
                      data={"reason": "cleaned"}).status_code == 403
    done = admin.post("/console/senders/bad.example/resume",
                      data={"reason": "cleaned", "csrf_token": csrf_of(page)})
    assert done.status_code == 200 and "Sender resumed." in done.text
    assert services.senders.state("bad.example")["state"] == "active"
