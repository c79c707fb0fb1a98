"""Profiles (banner, email change), recording sends, tokens, health."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.services import Services


def record(client: TestClient, headers: dict, message_id: str, recipients: list[dict]) -> dict:
    response = client.post("/v1/messages:record", headers=headers["sender"],
                           json={"message_id": message_id, "recipients": recipients,
                                 "sender": "newsletters"})
    assert response.status_code == 200, response.text
    return response.json()


def test_recording_a_send_feeds_the_message_map_and_profile(client: TestClient, headers: dict,
                                                            services: Services) -> None:
    body = record(client, headers, "ses-1", [{"address": "P@Example.com", "profile_id": "u1"},
                                             {"address": "q@example.com"}])
    assert body["recipients"] == [{"address": "p@example.com", "recorded": True},
                                  {"address": "q@example.com", "recorded": True}]
    again = record(client, headers, "ses-1", [{"address": "p@example.com"}])
    assert again["recipients"] == [{"address": "p@example.com", "recorded": False}]
    assert [s.address for s in services.reader.sends("ses-1")] == ["p@example.com",
                                                                   "q@example.com"]
    profile = client.get("/v1/profiles/u1", headers=headers["viewer"]).json()
    assert (profile["address"], profile["status"]["counts"]["sent"]) == ("p@example.com", 1)


def test_recording_refuses_a_bad_recipient(client: TestClient, headers: dict) -> None:
    response = client.post("/v1/messages:record", headers=headers["sender"],
                           json={"message_id": "m", "recipients": [{"address": "x"}]})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("recipients[0]:")


def test_unknown_profile_is_404(client: TestClient, headers: dict) -> None:
    response = client.get("/v1/profiles/nobody", headers=headers["viewer"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "profile_not_found"


def test_email_change_shows_the_new_address_status_at_once(client: TestClient, headers: dict,
                                                           services: Services) -> None:
    client.post("/v1/addresses/bad@example.com/suppress", json={"reason": "x"},
                headers=headers["operator"])
    response = client.put("/v1/profiles/u2/email", json={"email": "Bad@Example.com"},
                          headers=headers["operator"])
    assert response.status_code == 200
    body = response.json()
    assert (body["address"], body["status"]["status"]) == ("bad@example.com", "suppressed")


def test_email_change_refuses_an_invalid_email(client: TestClient, headers: dict) -> None:
    response = client.put("/v1/profiles/u3/email", json={"email": "nope"},
                          headers=headers["operator"])
    assert response.status_code == 422


def test_profile_id_over_200_characters_is_refused(client: TestClient, headers: dict) -> None:
    response = client.get("/v1/profiles/" + "p" * 201, headers=headers["viewer"])
    assert response.status_code == 422


def test_tokens_are_shown_once_and_stored_hashed(client: TestClient, headers: dict,
                                                 services: Services) -> None:
    created = client.post("/v1/tokens", json={"role": "viewer", "name": "dash"},
                          headers=headers["admin"])
    assert created.status_code == 201
    token = created.json()["token"]
    listed = client.get("/v1/tokens", headers=headers["admin"]).json()
    assert all("token" not in t for t in listed) and "dash" in [t["name"] for t in listed]
    with services.db.read() as cur:
        cur.execute("SELECT token_hash FROM api_tokens WHERE name = 'dash'")
        assert cur.fetchone()[0] != token
    assert client.get("/v1/addresses/a@example.com/history",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.delete("/v1/tokens/dash", headers=headers["admin"]).status_code == 204
    assert client.get("/v1/addresses/a@example.com/history",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_errors(client: TestClient, headers: dict) -> None:
    bad_role = client.post("/v1/tokens", json={"role": "god", "name": "x"},
                           headers=headers["admin"])
    assert (bad_role.status_code, bad_role.json()["error"]["code"]) == (422, "invalid_role")
    taken = client.post("/v1/tokens", json={"role": "viewer", "name": "viewer-token"},
                        headers=headers["admin"])
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "token_exists")
    missing = client.delete("/v1/tokens/ghost", headers=headers["admin"])
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "token_not_found")


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "quarantined": 0}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "python_info" in metrics.text
