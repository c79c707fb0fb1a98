"""status-at: at any instant, the status the live view showed at that instant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings

from api.services import Services
from projections.time_travel import status_at
from tests.analytics.ledgers import Step, ledgers

SHARED = ("address", "status", "sendable", "reason", "diagnostic", "since", "counts")


def snapshot(services: Services, addresses: list[str]) -> tuple[datetime, dict[str, Any]]:
    return datetime.now(UTC), {a: services.reader.status(a) for a in addresses}


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers)
def test_status_at_each_instant_equals_the_view_then(services: Services,
                                                     ledger: list[Step]) -> None:
    tag = uuid.uuid4().hex[:8]
    addresses = [f"u{who}-{tag}@example.com" for who in range(4)]
    snapshots = [snapshot(services, addresses)]
    for step in ledger:
        step(services, tag)
        snapshots.append(snapshot(services, addresses))
    for moment, statuses in snapshots:
        for address, then in statuses.items():
            past = status_at(services.ledger, address, moment)
            assert {k: past[k] for k in SHARED} == {k: then[k] for k in SHARED}
