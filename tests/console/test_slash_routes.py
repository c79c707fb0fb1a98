"""Issue 13 item 7 in the console: an address, profile id or sender containing "/" opens,
links and posts like any other (the API side runs on both stores in
``tests/api/test_address_routes.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.testclient import TestClient

from api.services import Services
from domain.reports import Bounce, Sent
from tests.conftest import ADMIN_TOKEN
from tests.console.conftest import csrf_of

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ADDRESS = "team/sales@example.com"


def test_an_address_with_a_slash_opens_from_the_list_and_resets(
        console: Callable[[str], TestClient], services: Services) -> None:
    services.ledger.record(Bounce(ADDRESS, "fb-1", "Permanent", "General", NOW, "sns"))
    operator = console("operator")
    listing = operator.get("/console/addresses")
    [href] = re.findall(r'href="(/console/addresses/[^"?]*sales[^"?]*)"', listing.text)
    page = operator.get(href)
    assert page.status_code == 200 and ADDRESS in page.text
    reset = operator.post(f"{href}/reset", data={"reason": "fixed", "csrf_token":
                                                 csrf_of(page.text)}, follow_redirects=False)
    assert reset.status_code == 303
    assert operator.get(reset.headers["location"]).status_code == 200
    assert services.reader.status(ADDRESS)["status"] == "ok"


def test_profile_ids_and_senders_with_a_slash_open(console: Callable[[str], TestClient],
                                                   services: Services,
                                                   anonymous: TestClient) -> None:
    services.ledger.record(Sent("p@example.com", "m-1", NOW, "api", "tenant/app", "org/42"))
    viewer = console("viewer")
    for path in (f"/console/profiles/{quote('org/42', safe='')}",
                 f"/console/senders/{quote('tenant/app', safe='')}"):
        assert viewer.get(path).status_code == 200, path
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    profile = anonymous.get("/v1/profiles/org%2F42", headers=auth)
    assert (profile.status_code, profile.json()["address"]) == (200, "p@example.com")
    sender = anonymous.get("/v1/senders/tenant%2Fapp", headers=auth)
    assert sender.status_code == 200
