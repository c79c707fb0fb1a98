"""The console in a real browser against a real server: operator reset, viewer read-only,
tampered CSRF refused. Screenshots go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server

pytestmark = pytest.mark.browser
DIAGNOSTIC = "smtp; 550 5.1.1 user unknown"


def log_in(browser: Any, server: Server, role: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server.base}/console/addresses")
    assert "/console/login" in page.url
    page.get_by_label("API token").fill(server.tokens[role])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/addresses")
    return page


def test_operator_resets_a_bounced_address(browser: Any, server: Server,
                                           artifacts: Path) -> None:
    address = "gone@example.com"
    server.seed_bounce(address, "user-42", "ses-msg-42")
    page = log_in(browser, server, "operator")
    row = page.locator("tr", has=page.get_by_role("link", name=address))
    assert row.locator(".badge").inner_text() == "Bounced"
    assert DIAGNOSTIC in row.inner_text()
    page.screenshot(path=str(artifacts / "console-list.png"), full_page=True)

    page.goto(f"{server.base}/console/profiles/user-42")
    assert f"We can't deliver email to {address}." in page.inner_text("main")
    assert DIAGNOSTIC in page.inner_text("main")
    page.screenshot(path=str(artifacts / "console-profile.png"), full_page=True)

    page.goto(f"{server.base}/console/addresses")
    page.get_by_role("link", name=address).click()
    timeline = page.locator("ol.timeline")
    assert DIAGNOSTIC in timeline.locator("li.event-HardBounced").inner_text()
    page.screenshot(path=str(artifacts / "console-address.png"), full_page=True)

    page.get_by_label("Reason (required)").first.fill("mailbox fixed, confirmed by phone")
    page.get_by_role("button", name="Reset").click()
    page.wait_for_url("**done=reset")
    newest = timeline.locator("li").first
    assert "StatusReset" in newest.inner_text()
    assert "Olivia Operator" in newest.inner_text()
    assert page.locator("h1 .badge").inner_text() == "OK"
    page.screenshot(path=str(artifacts / "console-address-after-reset.png"), full_page=True)

    page.goto(f"{server.base}/console/addresses")
    assert page.get_by_role("link", name=address).count() == 0
    page.goto(f"{server.base}/console/senders/shop.example")
    assert page.locator("svg.chart").count() == 3
    page.screenshot(path=str(artifacts / "console-sender.png"), full_page=True)
    page.context.close()


def test_viewer_finds_no_reset_form(browser: Any, server: Server) -> None:
    server.seed_bounce("viewed@example.com", "user-43", "ses-msg-43")
    page = log_in(browser, server, "viewer")
    page.get_by_role("link", name="viewed@example.com").click()
    assert "Not sendable" in page.inner_text("main")
    assert page.locator("form[action$='/reset']").count() == 0
    assert page.get_by_role("button", name="Reset").count() == 0
    assert page.get_by_role("button", name="Suppress").count() == 0
    page.context.close()


def test_a_tampered_csrf_token_is_refused(browser: Any, server: Server) -> None:
    server.seed_bounce("tamper@example.com", "user-44", "ses-msg-44")
    page = log_in(browser, server, "operator")
    page.goto(f"{server.base}/console/addresses/tamper@example.com")
    form = page.locator("form[action$='/suppress']")
    form.locator("input[name=csrf_token]").evaluate("field => { field.value = 'tampered'; }")
    form.get_by_label("Reason (required)").fill("should not happen")
    form.get_by_role("button", name="Suppress").click()
    assert page.get_by_role("heading", name="Form refused").is_visible()
    page.goto(f"{server.base}/console/addresses/tamper@example.com")
    assert page.locator("h1 .badge").inner_text() == "Bounced"
    page.context.close()


def test_pages_fit_a_375_pixel_screen(browser: Any, server: Server, artifacts: Path) -> None:
    server.seed_bounce("narrow@example.com", "user-45", "ses-msg-45")
    page = log_in(browser, server, "operator", width=375)
    for name, path in (("list", "/console/addresses"),
                       ("address", "/console/addresses/narrow@example.com")):
        page.goto(f"{server.base}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, f"{name} is {overflow}px wide"
        page.screenshot(path=str(artifacts / f"console-{name}-375.png"), full_page=True)
    page.context.close()


def test_a_blocklisted_sender_is_warned_and_its_recipients_stay_sendable(
        browser: Any, server: Server, artifacts: Path) -> None:
    import json

    import httpx

    from tests.sns_signing import ses_bounce

    spamhaus = ("smtp;550 5.7.1 Service unavailable, Client host [x.xx.xx.xx] blocked using "
                "Spamhaus. To request removal from this list see (AS16012611)")
    for i in range(12):
        envelope = server.signer.notification(ses_bounce(
            f"listed{i}@example.com", status="5.7.1", diagnostic=spamhaus,
            message_id=f"ses-listed-{i}", source="Offers <offers@listed.example>"))
        hooked = httpx.post(f"{server.base}/webhooks/ses", content=json.dumps(envelope),
                            headers={"Content-Type": "text/plain; charset=UTF-8",
                                     "x-amz-sns-message-type": "Notification"})
        assert hooked.status_code == 200, hooked.text
    page = log_in(browser, server, "viewer")
    page.goto(f"{server.base}/console/senders/listed.example")
    banner = page.get_by_role("region", name="Receiving servers are refusing this sender: "
                                             "blocklist / reputation")
    assert banner.is_visible()
    assert "blocked using Spamhaus" in banner.inner_text()
    page.screenshot(path=str(artifacts / "console-sender-rejections.png"), full_page=True)
    page.goto(f"{server.base}/console/addresses/listed3@example.com")
    assert page.locator("h1 .badge").inner_text() == "OK"
    why = page.locator("li.event-SenderRejected .why").inner_text()
    assert why.endswith("not the recipient's fault")
    page.screenshot(path=str(artifacts / "console-address-sender-rejected.png"), full_page=True)
    page.context.close()
