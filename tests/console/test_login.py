"""Console login, sessions, logout, CSRF on the login form, and the security headers."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.console import session
from api.services import Services
from tests.console.conftest import csrf_of, log_in, tampered


def test_a_page_without_a_session_redirects_to_login(anonymous: TestClient) -> None:
    response = anonymous.get("/console/addresses?status=bounced", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/console/login?next=%2Fconsole%2Faddresses%3Fstatus%3Dbounced")


def test_login_page_has_a_labelled_token_field_and_csrf(anonymous: TestClient) -> None:
    page = anonymous.get("/console/login")
    assert page.status_code == 200
    assert '<label for="token">API token</label>' in page.text
    assert 'id="token" name="token" type="password"' in page.text
    assert csrf_of(page.text)


def test_login_sets_a_strict_httponly_session_cookie(anonymous: TestClient,
                                                     tokens: dict[str, str]) -> None:
    form = anonymous.get("/console/login")
    response = anonymous.post("/console/login", data={
        "token": tokens["viewer"], "csrf_token": csrf_of(form.text), "next": ""},
        follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/console/addresses")
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("bl_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert tokens["viewer"] not in cookie
    assert "Secure" not in cookie  # plain http on localhost only


def test_the_cookie_is_secure_off_localhost(services: Services) -> None:
    with TestClient(create_app(services=services), base_url="http://console.example") as client:
        response = client.get("/console/login")
    assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_token_is_refused_on_the_page(anonymous: TestClient) -> None:
    form = anonymous.get("/console/login")
    response = anonymous.post("/console/login", data={"token": "bl_nope",
                                                      "csrf_token": csrf_of(form.text)})
    assert response.status_code == 401
    assert "That token is not valid" in response.text
    assert "bl_session" not in response.headers.get("set-cookie", "")


def test_a_sender_token_cannot_use_the_console(anonymous: TestClient,
                                               tokens: dict[str, str]) -> None:
    form = anonymous.get("/console/login")
    response = anonymous.post("/console/login", data={"token": tokens["sender"],
                                                      "csrf_token": csrf_of(form.text)})
    assert response.status_code == 403
    assert "cannot use the console" in response.text


def test_login_without_or_with_a_wrong_csrf_token_is_refused(anonymous: TestClient,
                                                             tokens: dict[str, str]) -> None:
    form = anonymous.get("/console/login")
    for data in ({"token": tokens["admin"]},
                 {"token": tokens["admin"], "csrf_token": tampered(csrf_of(form.text))}):
        response = anonymous.post("/console/login", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "CSRF" in response.text


def test_next_never_leaves_the_console(anonymous: TestClient, tokens: dict[str, str]) -> None:
    for target in ("https://evil.example/", "//evil.example", "/v1/tokens"):
        form = anonymous.get("/console/login")
        response = anonymous.post("/console/login", data={
            "token": tokens["viewer"], "csrf_token": csrf_of(form.text), "next": target},
            follow_redirects=False)
        assert response.headers["location"] == "/console/addresses"


def test_a_tampered_session_cookie_is_no_session(anonymous: TestClient,
                                                 tokens: dict[str, str]) -> None:
    log_in(anonymous, tokens["viewer"])
    value = anonymous.cookies["bl_session"]
    body, _, signature = value.partition(".")
    for bad in (f"{body}x.{signature}", f"{body}.{tampered(signature)}", body):
        anonymous.cookies.clear()
        anonymous.cookies.set("bl_session", bad, domain="localhost.local",
                              path="/console")
        assert anonymous.get("/console/addresses", follow_redirects=False).status_code == 303
    anonymous.cookies.clear()
    anonymous.cookies.set("bl_session", value, domain="localhost.local", path="/console")
    assert anonymous.get("/console/addresses", follow_redirects=False).status_code == 200


def test_revoking_the_token_ends_its_sessions(console: Callable[[str], TestClient],
                                             services: Services) -> None:
    client = console("viewer")
    assert client.get("/console/addresses").status_code == 200
    services.tokens.revoke("viewer-person")
    assert client.get("/console/addresses", follow_redirects=False).status_code == 303


def test_a_session_ends_after_twelve_hours(console: Callable[[str], TestClient],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    client = console("viewer")
    later = time.time() + session.MAX_AGE_S + 1
    monkeypatch.setattr(session.time, "time", lambda: later)
    assert client.get("/console/addresses", follow_redirects=False).status_code == 303


def test_logout_needs_csrf_and_ends_the_session(console: Callable[[str], TestClient]) -> None:
    client = console("viewer")
    page = client.get("/console/addresses")
    assert client.post("/console/logout", data={}).status_code == 403
    response = client.post("/console/logout", data={"csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/console/login")
    assert client.get("/console/addresses", follow_redirects=False).status_code == 303


def test_console_pages_carry_the_security_headers(console: Callable[[str], TestClient]) -> None:
    response = console("viewer").get("/console/addresses")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script" not in response.text and "style=" not in response.text


def test_the_stylesheet_is_served(anonymous: TestClient) -> None:
    response = anonymous.get("/console/static/console.css")
    assert response.status_code == 200 and ".badge-bounced" in response.text


def test_api_errors_stay_json(anonymous: TestClient) -> None:
    response = anonymous.get("/v1/addresses")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_the_session_key_comes_from_the_settings_or_is_random() -> None:
    from api.settings import Settings

    assert Settings(session_secret="s1").session_key() == b"s1"
    assert Settings(secret_key="k1").session_key() == b"k1"
    random_one, random_two = Settings().session_key(), Settings().session_key()
    assert len(random_one) == 32 and random_one != random_two


def test_a_burst_of_wrong_tokens_is_slowed_down(anonymous: TestClient,
                                                tokens: dict[str, str]) -> None:
    form = anonymous.get("/console/login")
    wrong = {"token": "bl_nope", "csrf_token": csrf_of(form.text)}
    answers = [anonymous.post("/console/login", data=wrong).status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]
    refused = anonymous.post("/console/login", data={**wrong, "token": tokens["viewer"]},
                             follow_redirects=False)
    assert refused.status_code == 429  # even a right token waits until the window passes
    assert "Too many failed logins" in refused.text


def test_the_login_throttle_forgets_old_failures() -> None:
    now = [0.0]
    throttle = session.LoginThrottle(limit=2, window_s=60, clock=lambda: now[0])
    throttle.failed("1.2.3.4")
    throttle.failed("1.2.3.4")
    with pytest.raises(session.ConsoleError):
        throttle.check("1.2.3.4")
    throttle.check("5.6.7.8")  # other clients are not affected
    now[0] = 61.0
    throttle.check("1.2.3.4")
