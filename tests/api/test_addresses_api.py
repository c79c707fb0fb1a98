"""Address routes: reads, batch check, history, reset/suppress, validation and error shape."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.services import Services
from domain.reports import Bounce, Complaint


def hard_bounce(services: Services, address: str, fid: str = "f1") -> None:
    services.ledger.record(Bounce(address, fid, "Permanent", "General",
                                  datetime(2026, 4, 1, tzinfo=UTC), "sns",
                                  diagnostic="smtp; 550 5.1.1 user unknown"))


def test_unknown_address_is_ok(client: TestClient, headers: dict) -> None:
    body = client.get("/v1/addresses/New@Example.com", headers=headers["sender"]).json()
    assert body["address"] == "new@example.com"
    assert (body["status"], body["sendable"], body["last_event_at"]) == ("ok", True, None)
    assert body["counts"] == {"sent": 0, "delivered": 0, "soft_bounces": 0, "hard_bounces": 0,
                              "complaints": 0, "blocked": 0}


def test_bounced_address_reads_with_reason_and_diagnostic(client: TestClient, headers: dict,
                                                          services: Services) -> None:
    hard_bounce(services, "gone@example.com")
    body = client.get("/v1/addresses/gone@example.com", headers=headers["viewer"]).json()
    assert (body["status"], body["sendable"], body["reason"]) == ("bounced", False, "hard_bounce")
    assert body["diagnostic"] == "smtp; 550 5.1.1 user unknown"
    assert body["since"] == "2026-04-01T00:00:00.000000Z"


def test_invalid_address_is_422_in_the_error_shape(client: TestClient, headers: dict) -> None:
    response = client.get("/v1/addresses/not-an-address", headers=headers["sender"])
    assert response.status_code == 422
    assert response.json() == {"error": {"code": "invalid_address",
                                         "message": "not an email address: 'not-an-address'"}}


def test_check_answers_in_input_order(client: TestClient, headers: dict,
                                      services: Services) -> None:
    hard_bounce(services, "b@example.com")
    addresses = ["z@example.com", "B@example.com", "a@example.com", "b@example.com"]
    response = client.post("/v1/addresses:check", json={"addresses": addresses},
                           headers=headers["sender"])
    assert response.json()["results"] == [
        {"address": "z@example.com", "status": "ok", "sendable": True},
        {"address": "b@example.com", "status": "bounced", "sendable": False},
        {"address": "a@example.com", "status": "ok", "sendable": True},
        {"address": "b@example.com", "status": "bounced", "sendable": False},
    ]


def test_check_takes_ten_thousand_and_refuses_more(client: TestClient, headers: dict) -> None:
    many = [f"user{i}@example.com" for i in range(10_000)]
    ok = client.post("/v1/addresses:check", json={"addresses": many}, headers=headers["sender"])
    assert ok.status_code == 200 and len(ok.json()["results"]) == 10_000
    too_many = client.post("/v1/addresses:check", json={"addresses": [*many, "x@example.com"]},
                           headers=headers["sender"])
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "validation_error"


def test_check_names_the_bad_address(client: TestClient, headers: dict) -> None:
    response = client.post("/v1/addresses:check", json={"addresses": ["a@example.com", "bad"]},
                           headers=headers["sender"])
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("addresses[1]:")


def test_check_refuses_a_body_that_is_not_json(client: TestClient, headers: dict) -> None:
    response = client.post("/v1/addresses:check", content=b"{nope",
                           headers={**headers["sender"], "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_history_pages_through_every_event(client: TestClient, headers: dict,
                                           services: Services) -> None:
    for i in range(5):
        hard_bounce(services, "h@example.com", f"f{i}")
    first = client.get("/v1/addresses/h@example.com/history?limit=4",
                       headers=headers["viewer"]).json()
    assert [e["type"] for e in first["events"]] == ["Registered"] + ["HardBounced"] * 3
    assert first["events"][1]["data"]["feedback_id"] == "f0"
    assert first["events"][1]["data"]["source"] == "sns"
    rest = client.get(f"/v1/addresses/h@example.com/history?limit=4&cursor={first['next_cursor']}",
                      headers=headers["viewer"]).json()
    assert [e["version"] for e in rest["events"]] == [5, 6]
    assert rest["next_cursor"] is None


def test_reset_needs_a_reason(client: TestClient, headers: dict) -> None:
    for body in ({}, {"reason": ""}):
        response = client.post("/v1/addresses/a@example.com/reset", json=body,
                               headers=headers["operator"])
        assert response.status_code == 422
        assert "reason" in response.json()["error"]["message"]


def test_whitespace_reason_is_refused(client: TestClient, headers: dict) -> None:
    response = client.post("/v1/addresses/a@example.com/suppress", json={"reason": "   "},
                           headers=headers["operator"])
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "invalid_command", "message": "reason is required"}


def test_operator_resets_a_bounce_and_history_keeps_it(client: TestClient, headers: dict,
                                                       services: Services) -> None:
    hard_bounce(services, "r@example.com")
    body = client.post("/v1/addresses/r@example.com/reset", json={"reason": "fixed typo"},
                       headers=headers["operator"]).json()
    assert (body["status"], body["counts"]["hard_bounces"]) == ("ok", 1)
    events = client.get("/v1/addresses/r@example.com/history", headers=headers["viewer"]).json()
    assert events["events"][-1]["type"] == "StatusReset"
    assert events["events"][-1]["data"]["actor"] == "operator-token"
    assert events["events"][-1]["data"]["reason"] == "fixed typo"


def test_lifting_a_complaint_needs_admin_and_consent(client: TestClient, headers: dict,
                                                     services: Services) -> None:
    services.ledger.record(Complaint("c@example.com", "k1", datetime(2026, 4, 1, tzinfo=UTC),
                                     "sns", feedback_type="abuse"))
    path = "/v1/addresses/c@example.com/reset"
    operator = client.post(path, json={"reason": "r", "consent": "yes"},
                           headers=headers["operator"])
    assert operator.status_code == 403
    assert operator.json()["error"]["code"] == "consent_required"
    no_consent = client.post(path, json={"reason": "r"}, headers=headers["admin"])
    assert no_consent.status_code == 403
    done = client.post(path, json={"reason": "r", "consent": "opted in again, ticket 7"},
                       headers=headers["admin"])
    assert done.status_code == 200 and done.json()["status"] == "ok"


def test_suppress_blocks_the_address(client: TestClient, headers: dict) -> None:
    body = client.post("/v1/addresses/s@example.com/suppress", json={"reason": "legal hold"},
                       headers=headers["operator"]).json()
    assert (body["status"], body["sendable"], body["diagnostic"]) == (
        "suppressed", False, "legal hold")


def test_unknown_fields_are_refused(client: TestClient, headers: dict) -> None:
    response = client.post("/v1/addresses/s@example.com/suppress",
                           json={"reason": "x", "extra": 1}, headers=headers["operator"])
    assert response.status_code == 422
