"""``/v1/webhooks``: admin only, the secret shown once, deliveries listed and re-sent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

URL = "http://127.0.0.1:9/hooks"


def add(client: TestClient, headers: dict, **body: object) -> dict:
    response = client.post("/v1/webhooks", headers=headers["admin"],
                           json={"url": URL, "events": ["address.blocked"], **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("role", ["viewer", "sender", "operator"])
def test_only_admins_manage_webhooks(client: TestClient, headers: dict, role: str) -> None:
    assert client.get("/v1/webhooks", headers=headers[role]).status_code == 403
    assert client.post("/v1/webhooks", headers=headers[role],
                       json={"url": URL, "events": ["address.blocked"]}).status_code == 403


def test_without_a_token_it_is_401(client: TestClient) -> None:
    assert client.get("/v1/webhooks").status_code == 401


def test_the_secret_is_shown_once(client: TestClient, headers: dict) -> None:
    made = add(client, headers)
    assert made["secret"].startswith("whsec_") and made["id"].startswith("ep_")
    listed = client.get("/v1/webhooks", headers=headers["admin"]).json()["webhooks"]
    one = client.get(f"/v1/webhooks/{made['id']}", headers=headers["admin"]).json()
    assert [w["id"] for w in listed] == [made["id"]]
    assert "secret" not in listed[0] and "secret" not in one
    assert made["secret"] not in client.get("/v1/webhooks", headers=headers["admin"]).text


@pytest.mark.parametrize("body, message", [
    ({"url": URL, "events": ["address.exploded"]}, "unknown: address.exploded"),
    ({"url": "ftp://x.example/", "events": ["address.blocked"]}, "https or http"),
    ({"url": URL, "events": []}, "events"),
])
def test_bad_requests_are_422_and_say_why(client: TestClient, headers: dict, body: dict,
                                          message: str) -> None:
    response = client.post("/v1/webhooks", headers=headers["admin"], json=body)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_deliveries_are_listed_with_their_attempts(client: TestClient, headers: dict) -> None:
    made = add(client, headers)
    assert client.post("/v1/addresses/ann@example.org/suppress", headers=headers["operator"],
                       json={"reason": "asked"}).status_code == 200
    listed = client.get(f"/v1/webhooks/{made['id']}/deliveries",
                        headers=headers["admin"]).json()
    [delivery] = listed["deliveries"]
    assert delivery["type"] == "address.blocked"
    assert delivery["payload"]["data"]["address"] == "ann@example.org"
    assert delivery["state"] in ("pending", "delivered", "failed")
    assert listed["next_cursor"] is None


def test_a_delivery_can_be_resent_and_an_unknown_one_is_404(client: TestClient,
                                                            headers: dict) -> None:
    made = add(client, headers)
    client.post("/v1/addresses/ann@example.org/suppress", headers=headers["operator"],
                json={"reason": "asked"})
    [delivery] = client.get(f"/v1/webhooks/{made['id']}/deliveries",
                            headers=headers["admin"]).json()["deliveries"]
    base = f"/v1/webhooks/{made['id']}/deliveries"
    assert client.post(f"{base}/{delivery['id']}/resend",
                       headers=headers["admin"]).status_code == 202
    assert client.post(f"{base}/msg_nope/resend", headers=headers["admin"]).status_code == 404


def test_events_can_be_changed_and_the_endpoint_disabled(client: TestClient,
                                                         headers: dict) -> None:
    made = add(client, headers)
    changed = client.patch(f"/v1/webhooks/{made['id']}", headers=headers["admin"],
                           json={"events": ["address.erased"], "enabled": False}).json()
    assert changed["events"] == ["address.erased"] and changed["enabled"] is False
    assert changed["disabled_reason"] == "disabled by an admin"


def test_rotation_returns_a_new_secret_once(client: TestClient, headers: dict) -> None:
    made = add(client, headers)
    rotated = client.post(f"/v1/webhooks/{made['id']}/rotate-secret", headers=headers["admin"])
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != made["secret"]
    assert rotated.json()["previous_secret_valid_until"].endswith("Z")


def test_removing_an_endpoint_is_204_then_404(client: TestClient, headers: dict) -> None:
    made = add(client, headers)
    path = f"/v1/webhooks/{made['id']}"
    assert client.delete(path, headers=headers["admin"]).status_code == 204
    assert client.delete(path, headers=headers["admin"]).status_code == 404
    assert client.get(f"{path}/deliveries", headers=headers["admin"]).status_code == 404


@pytest.mark.parametrize("raw", [
    r'{"url": "http://a\u0000b.example/x", "events": ["address.blocked"]}',
    r'{"url": "http://[::1/x", "events": ["address.blocked"]}',
    r'{"url": "http://\ud800.example/x", "events": ["address.blocked"]}',
    r'{"url": "http://127.0.0.1:9/hooks", "events": ["address.blocked\u0000"]}',
    r'{"url": "http://127.0.0.1:99999/hooks", "events": ["address.blocked"]}',
])
def test_hostile_input_is_refused_with_a_422(client: TestClient, headers: dict,
                                            raw: str) -> None:
    response = client.post("/v1/webhooks", content=raw.encode(), headers={
        **headers["admin"], "content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]


def test_a_description_with_a_nul_is_stored_readably(client: TestClient, headers: dict) -> None:
    made = add(client, headers, description="ops\u0000team")
    listed = client.get(f"/v1/webhooks/{made['id']}", headers=headers["admin"]).json()
    assert listed["description"].startswith("ops") and "\u0000" not in listed["description"]
