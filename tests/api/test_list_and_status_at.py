"""The address list (filter, search, cursor pages, validation) and status at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.services import Services
from domain.reports import Bounce, Complaint, Delivery

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def bounce(services: Services, address: str, subtype: str = "General",
           permanent: bool = True) -> None:
    kind = "Permanent" if permanent else "Transient"
    services.ledger.record(Bounce(address, f"f-{address}-{subtype}", kind, subtype, T0, "sns",
                                  diagnostic=f"smtp; 550 {address}"))


def listed(client: TestClient, auth: dict, query: str = "") -> dict:
    response = client.get(f"/v1/addresses{query}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_list_shows_non_ok_addresses_newest_change_first(client: TestClient, headers: dict,
                                                        services: Services) -> None:
    for name in ("first", "second", "third"):
        bounce(services, f"{name}@example.com")
    services.ledger.record(Delivery("fine@example.com", "m1", T0, "sns"))
    body = listed(client, headers["viewer"])
    assert [a["address"] for a in body["addresses"]] == [
        "third@example.com", "second@example.com", "first@example.com"]
    first = body["addresses"][-1]
    assert (first["status"], first["reason"], first["diagnostic"]) == (
        "bounced", "hard_bounce", "smtp; 550 first@example.com")
    assert first["counts"]["hard_bounces"] == 1 and first["changed_at"].endswith("Z")
    assert body["next_cursor"] is None


def test_list_filters_by_status_and_searches_a_substring(client: TestClient, headers: dict,
                                                        services: Services) -> None:
    bounce(services, "alpha@example.com")
    bounce(services, "beta@example.org")
    services.ledger.record(Complaint("gamma@example.com", "k1", T0, "sns", feedback_type="abuse"))
    complained = listed(client, headers["viewer"], "?status=complained")["addresses"]
    assert [a["address"] for a in complained] == ["gamma@example.com"]
    found = listed(client, headers["viewer"], "?q=EXAMPLE.ORG")["addresses"]
    assert [a["address"] for a in found] == ["beta@example.org"]
    assert listed(client, headers["viewer"], "?q=%25")["addresses"] == []


def test_ok_addresses_are_listed_only_when_asked_for(client: TestClient, headers: dict,
                                                     services: Services) -> None:
    services.ledger.record(Delivery("fine@example.com", "m1", T0, "sns"))
    assert listed(client, headers["viewer"])["addresses"] == []
    ok = listed(client, headers["viewer"], "?status=ok")["addresses"]
    assert [a["address"] for a in ok] == ["fine@example.com"]


def test_cursor_pages_cover_every_row_once(client: TestClient, headers: dict,
                                           services: Services) -> None:
    expected = {f"user{i}@example.com" for i in range(7)}
    for address in sorted(expected):
        bounce(services, address)
    seen, cursor, pages = [], "", 0
    while True:
        body = listed(client, headers["viewer"], f"?limit=3{cursor}")
        seen += [a["address"] for a in body["addresses"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert pages == 3 and len(seen) == 7 and set(seen) == expected


def test_list_refuses_bad_parameters_clearly(client: TestClient, headers: dict) -> None:
    cases = {"?status=gone": 422, "?limit=0": 422, "?limit=501": 422,
             "?cursor=not-a-cursor": 400, "?cursor=WzFd": 400}
    for query, status in cases.items():
        response = client.get(f"/v1/addresses{query}", headers=headers["viewer"])
        assert response.status_code == status, query
    bad_cursor = client.get("/v1/addresses?cursor=xyz", headers=headers["viewer"]).json()
    assert bad_cursor["error"] == {"code": "invalid_query",
                                   "message": "cursor is not one this API returned"}
    bad_status = client.get("/v1/addresses?status=gone", headers=headers["viewer"]).json()
    assert "status" in bad_status["error"]["message"]


def test_status_at_gives_the_status_and_rule_of_that_time(client: TestClient, headers: dict,
                                                          services: Services) -> None:
    bounce(services, "tt@example.com")
    recorded = services.ledger.history("tt@example.com")[-1].timestamp
    before = (recorded - timedelta(seconds=1)).isoformat()
    after = (recorded + timedelta(seconds=1)).isoformat()
    path = "/v1/addresses/TT@example.com/status-at"
    then = client.get(path, params={"at": before}, headers=headers["viewer"]).json()
    assert (then["status"], then["sendable"], then["reason"]) == ("ok", True, None)
    now = client.get(path, params={"at": after}, headers=headers["viewer"]).json()
    assert (now["address"], now["status"], now["reason"]) == (
        "tt@example.com", "bounced", "hard_bounce")
    assert now["rule"] == "a permanent (hard) bounce"
    assert now["diagnostic"] == "smtp; 550 tt@example.com"


def test_status_at_refuses_a_time_that_is_not_iso(client: TestClient, headers: dict) -> None:
    path = "/v1/addresses/a@example.com/status-at"
    missing = client.get(path, headers=headers["viewer"])
    assert missing.status_code == 422 and "at" in missing.json()["error"]["message"]
    bad = client.get(path, params={"at": "yesterday"}, headers=headers["viewer"])
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == "not an ISO 8601 time: 'yesterday'"


def test_history_refuses_a_bad_cursor_or_limit(client: TestClient, headers: dict) -> None:
    for query in ("cursor=abc", "cursor=-1", "limit=0", "limit=1001"):
        response = client.get(f"/v1/addresses/a@example.com/history?{query}",
                              headers=headers["viewer"])
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "validation_error"
