"""The webhooks pages (admins only, CSRF on every form, the secret shown once) and the SES
sync page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services, build_services
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.console.conftest import csrf_of, log_in
from tests.webhooks.conftest import suppress

URL = "http://127.0.0.1:9/hooks"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def add(client: TestClient, **form: object) -> str:
    page = client.get("/console/webhooks")
    data = {"url": URL, "events": ["address.blocked", "address.unblocked"],
            "csrf_token": csrf_of(page.text), **form}
    response = client.post("/console/webhooks", data=data)
    assert response.status_code == 201, response.text
    return response.text


def test_only_admins_see_webhooks(console: Callable[[str], TestClient]) -> None:
    operator = console("operator")
    assert operator.get("/console/webhooks").status_code == 403
    assert "/console/webhooks" not in operator.get("/console/addresses").text
    assert "/console/webhooks" in console("admin").get("/console/addresses").text


def test_adding_shows_the_secret_once(console: Callable[[str], TestClient]) -> None:
    admin = console("admin")
    shown = add(admin)
    [secret] = set(SECRET.findall(shown))
    assert "not shown again" in shown
    listed = admin.get("/console/webhooks").text
    assert URL in listed and secret not in listed
    found = re.search(r'href="/console/webhooks/(ep_[0-9a-f]+)"', listed)
    assert found is not None
    endpoint_id = found.group(1)
    assert secret not in admin.get(f"/console/webhooks/{endpoint_id}").text


def test_a_form_without_the_csrf_token_is_refused(console: Callable[[str], TestClient]) -> None:
    admin = console("admin")
    response = admin.post("/console/webhooks", data={"url": URL, "events": ["address.blocked"]})
    assert response.status_code == 403
    assert admin.get("/console/webhooks").text.count("<tr>") == 0


def test_a_refused_url_is_explained_and_kept(tmp_path: Path) -> None:
    services = build_services(make_settings(f"sqlite:///{tmp_path / 'c.db'}",
                                            environment="production", secret_key="s" * 32,
                                            session_secret="x" * 32))
    try:
        with TestClient(create_app(services=services), base_url="https://localhost") as admin:
            log_in(admin, ADMIN_TOKEN)
            page = admin.get("/console/webhooks")
            response = admin.post("/console/webhooks", data={
                "url": "https://10.0.0.7/hooks", "events": ["address.blocked"],
                "csrf_token": csrf_of(page.text)})
            assert response.status_code == 422
            assert "10.0.0.7 (private)" in response.text and 'value="https://10.0.0.7/hooks"' \
                in response.text
    finally:
        services.close()


def test_deliveries_are_listed_and_can_be_sent_again(console: Callable[[str], TestClient],
                                                    services: Services) -> None:
    admin = console("admin")
    add(admin)
    suppress(services, "ann@example.org")
    assert services.webhooks is not None
    [endpoint] = services.webhooks.endpoints.all()
    page = admin.get(f"/console/webhooks/{endpoint.id}")
    assert "address.blocked" in page.text
    [delivery] = services.webhooks.deliveries(endpoint.id)
    response = admin.post(f"/console/webhooks/{endpoint.id}/deliveries/{delivery['id']}/resend",
                          data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert "sent again now" in admin.get(response.headers["location"]).text


def test_rotation_shows_the_new_secret_and_the_overlap(console: Callable[[str], TestClient],
                                                       services: Services) -> None:
    admin = console("admin")
    first = set(SECRET.findall(add(admin)))
    assert services.webhooks is not None
    [endpoint] = services.webhooks.endpoints.all()
    page = admin.get(f"/console/webhooks/{endpoint.id}")
    rotated = admin.post(f"/console/webhooks/{endpoint.id}/rotate",
                         data={"csrf_token": csrf_of(page.text)})
    assert rotated.status_code == 200 and "keeps signing beside this one" in rotated.text
    assert set(SECRET.findall(rotated.text)) - first


def test_disable_enable_and_remove(console: Callable[[str], TestClient],
                                   services: Services) -> None:
    admin = console("admin")
    add(admin)
    assert services.webhooks is not None
    [endpoint] = services.webhooks.endpoints.all()
    path = f"/console/webhooks/{endpoint.id}"
    token = csrf_of(admin.get(path).text)
    admin.post(f"{path}/enabled", data={"csrf_token": token, "enabled": "false"})
    assert "Disabled" in admin.get(path).text
    admin.post(f"{path}/enabled", data={"csrf_token": token, "enabled": "true"})
    assert services.webhooks.get(endpoint.id).enabled
    removed = admin.post(f"{path}/remove", data={"csrf_token": token}, follow_redirects=False)
    assert removed.headers["location"] == "/console/webhooks?done=removed"
    assert admin.get(path).status_code == 404


def test_the_sync_page_says_when_it_is_off(console: Callable[[str], TestClient]) -> None:
    page = console("viewer").get("/console/ses-sync")
    assert page.status_code == 200 and "BOUNCELEDGER_SES_SUPPRESSION_SYNC" in page.text


def test_the_sync_page_shows_push_and_pull(tmp_path: Path) -> None:
    services = build_services(make_settings(f"sqlite:///{tmp_path / 's.db'}",
                                            ses_suppression_sync="both",
                                            aws_endpoint_url="http://127.0.0.1:9"))
    try:
        suppress(services, "ann@example.org")
        with TestClient(create_app(services=services), base_url="http://localhost") as viewer:
            log_in(viewer, services.tokens.create("v", "viewer"))
            page = viewer.get("/console/ses-sync").text
        assert "Mode <strong>both</strong>" in page and "1 waiting" in page
        assert "ann@example.org" in page and "Put (BOUNCE)" in page and "Not run yet" in page
    finally:
        services.close()
