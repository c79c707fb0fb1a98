"""Issue 13 items 6, 7 and 11 through the API on both stores: one mailbox is one address
whatever its spelling; an address with "/" works on every route; an erasure takes its reason
from ``?reason=`` as well as from a JSON body."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.services import Services, build_services
from domain.reports import Bounce
from tests.conftest import make_settings

NOW = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url, erasure_key="test-erasure-key"))
    yield built
    built.close()


def bounce(services: Services, address: str) -> None:
    services.ledger.record(Bounce(address, f"fb-{uuid.uuid4().hex}", "Permanent", "General",
                                  NOW, "sns", diagnostic="smtp; 550 5.1.1 user unknown"))


# (spelling a report arrives with, spelling a later check uses)
SPELLINGS = [("kate@xn--fa-hia.de", "Kate@FAß.de"), ("kate@faß.de", "kate@xn--fa-hia.de"),
             ("olga@xn--mxa8ab.gr", "olga@σας.gr"),
             ("ken@kelvin.example", "\u212aen@\u212aelvin.example"),
             ("wide@example.com", "wide@ｅｘａｍｐｌｅ．ｃｏｍ")]  # noqa: RUF001


@pytest.mark.parametrize(("reported", "checked"), SPELLINGS)
def test_a_bounce_on_one_spelling_blocks_the_other(
        client: TestClient, headers: dict[str, dict[str, str]], services: Services,
        reported: str, checked: str) -> None:
    from adapters.addresses import normalize_address

    bounce(services, normalize_address(reported))
    one = client.get(f"/v1/addresses/{quote(checked, safe='@')}", headers=headers["sender"])
    batch = client.post("/v1/addresses:check", headers=headers["sender"],
                        json={"addresses": [checked]})
    assert (one.json()["status"], one.json()["sendable"]) == ("bounced", False)
    assert batch.json()["results"][0]["sendable"] is False


def test_ss_is_not_sharp_s(client: TestClient, headers: dict[str, dict[str, str]],
                           services: Services) -> None:
    bounce(services, "kate@fass.de")
    assert client.get("/v1/addresses/kate@faß.de", headers=headers["sender"]).json()[
        "status"] == "ok"


SLASHED = ["a/b@example.com", "x/history@example.com", "r/reset@example.com",
           "/lead@example.com", "trail/@example.com", "many/sl/ashes@example.com"]


def paths(address: str) -> list[str]:
    """The address percent-encoded (as a client should send it) and raw."""
    return [quote(address, safe="@"), address]


@pytest.mark.parametrize("address", SLASHED)
def test_an_address_with_a_slash_can_be_read(client: TestClient,
                                             headers: dict[str, dict[str, str]],
                                             services: Services, address: str) -> None:
    bounce(services, address)
    for path in paths(address):
        status = client.get(f"/v1/addresses/{path}", headers=headers["viewer"])
        assert (status.status_code, status.json()["address"]) == (200, address)
        assert status.json()["status"] == "bounced"
        history = client.get(f"/v1/addresses/{path}/history", headers=headers["viewer"])
        assert [e["type"] for e in history.json()["events"]] == ["Registered", "HardBounced"]
        at = client.get(f"/v1/addresses/{path}/status-at?at=2030-01-01T00:00:00Z",
                        headers=headers["viewer"])
        assert at.json()["status"] == "bounced"


@pytest.mark.parametrize("address", SLASHED[:3])
def test_an_address_with_a_slash_can_be_reset_suppressed_and_erased(
        client: TestClient, headers: dict[str, dict[str, str]], services: Services,
        address: str) -> None:
    bounce(services, address)
    path = quote(address, safe="@")
    reset = client.post(f"/v1/addresses/{path}/reset", headers=headers["operator"],
                        json={"reason": "fixed"})
    assert (reset.status_code, reset.json()["status"]) == (200, "ok")
    suppress = client.post(f"/v1/addresses/{address}/suppress", headers=headers["operator"],
                           json={"reason": "asked"})
    assert (suppress.status_code, suppress.json()["status"]) == (200, "suppressed")
    erased = client.delete(f"/v1/addresses/{path}?reason=asked", headers=headers["admin"])
    assert (erased.status_code, erased.json()["erased"]) == (200, True)
    assert client.get(f"/v1/addresses/{path}", headers=headers["viewer"]).json()[
        "reason"] == "erased"


def test_a_suffix_in_the_local_part_is_not_a_route(client: TestClient,
                                                   headers: dict[str, dict[str, str]],
                                                   services: Services) -> None:
    bounce(services, "a@example.com")
    response = client.get("/v1/addresses/a/history@example.com", headers=headers["viewer"])
    assert (response.json()["address"], response.json()["status"]) == (
        "a/history@example.com", "ok")


@pytest.mark.parametrize("how", ["query", "body", "both"])
def test_an_erasure_reason_comes_as_a_query_or_a_body(client: TestClient,
                                                       headers: dict[str, dict[str, str]],
                                                       services: Services, how: str) -> None:
    bounce(services, "erase-me@example.org")
    query = "?reason=GDPR%20request" if how != "body" else ""
    body = {"json": {"reason": "GDPR request"}} if how != "query" else {}
    response = client.request("DELETE", f"/v1/addresses/erase-me@example.org{query}",
                              headers=headers["admin"], **body)
    assert (response.status_code, response.json()["erased"]) == (200, True)
    [*_, erased] = services.ledger.history("erase-me@example.org")
    assert (type(erased).__name__, erased.reason) == ("Erased", "GDPR request")


@pytest.mark.parametrize("request_args", [
    {}, {"params": {"reason": ""}}, {"params": {"reason": "a"}, "json": {"reason": "b"}},
    {"json": {}}, {"json": {"reason": ""}},
], ids=["none", "empty-query", "two-reasons", "empty-body", "empty-body-reason"])
def test_an_erasure_without_one_reason_is_a_422(client: TestClient,
                                                headers: dict[str, dict[str, str]],
                                                services: Services,
                                                request_args: dict) -> None:
    bounce(services, "keep-me@example.org")
    response = client.request("DELETE", "/v1/addresses/keep-me@example.org",
                              headers=headers["admin"], **request_args)
    assert response.status_code == 422
    assert [type(e).__name__ for e in services.ledger.history("keep-me@example.org")] == [
        "Registered", "HardBounced"]
