"""The status shape of SPEC §5 is defined once (``projections.queries.AddressStatus``):
every answer that carries a status has exactly its keys, and the status filters accept
exactly the domain's statuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from fastapi.testclient import TestClient

from api.console.address_routes import StatusFilter
from api.services import Services
from domain.policy import COUNT_NAMES, STATUSES
from domain.reports import Bounce, Sent
from projections.queries import AddressStatus, Counts

T0 = datetime(2026, 4, 1, tzinfo=UTC)
KEYS = set(AddressStatus.__annotations__)


def test_the_shape_counts_what_the_policy_counts() -> None:
    assert tuple(Counts.__annotations__) == COUNT_NAMES


def test_every_status_answer_has_the_one_shape(client: TestClient, headers: dict,
                                              services: Services) -> None:
    services.ledger.record(
        Bounce("gone@example.com", "f1", "Permanent", "General", T0, "sns"),
        Sent("owner@example.com", "m1", T0, "api", profile_id="p-1"))
    auth = headers["admin"]
    listed = client.get("/v1/addresses", headers=auth).json()["addresses"]
    assert [set(row) for row in listed] == [KEYS | {"changed_at"}]
    answers = [client.get(f"/v1/addresses/{a}", headers=auth).json()
               for a in ("gone@example.com", "never@example.com")]
    answers.append(client.get("/v1/profiles/p-1", headers=auth).json()["status"])
    answers.append(client.post("/v1/addresses/gone@example.com/reset", headers=auth,
                               json={"reason": "fixed"}).json())
    for answer in answers:
        assert set(answer) == KEYS and tuple(answer["counts"]) == COUNT_NAMES, answer

def test_the_status_filters_are_the_domain_statuses(client: TestClient) -> None:
    params = client.get("/openapi.json").json()["paths"]["/v1/addresses"]["get"]["parameters"]
    status = next(p for p in params if p["name"] == "status")["schema"]["anyOf"][0]
    assert tuple(status["enum"]) == STATUSES
    assert get_args(StatusFilter) == ("", *STATUSES)
