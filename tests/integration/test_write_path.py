"""The write path on a real store: bounded loads, statements per batch, one commit.

Counted, not timed: how many stored events a write reads for an address with thousands of
events, and how many SQL statements a batch of webhook reports costs on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.event_store import Loaded, SqlEventStore
from api.services import Services
from domain.addresses import address_id
from domain.reports import Bounce, Delivery, Sent

NOW = datetime(2026, 5, 1, tzinfo=UTC)
LONG = "long-history@example.com"


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[UUID, Loaded]]]:
    """Every batch load of the write path, as loaded (snapshot + events per aggregate)."""
    seen: list[dict[UUID, Loaded]] = []
    original = SqlEventStore.load

    def spy(self: SqlEventStore, cur: Any, ids: Collection[UUID]) -> dict[UUID, Loaded]:
        found = original(self, cur, ids)
        seen.append(found)
        return found

    monkeypatch.setattr(SqlEventStore, "load", spy)
    yield seen


def grow(services: Services, address: str, events: int) -> None:
    """Record ``events`` sends and deliveries to one address, 200 per transaction."""
    for start in range(0, events, 200):
        reports: list[Sent | Delivery] = []
        for i in range(start, min(events, start + 200)):
            at = NOW + timedelta(minutes=i)
            reports.append(Sent(address, f"m{i}", at, "api") if i % 2 == 0
                           else Delivery(address, f"m{i - 1}", at, "sns"))
        services.ledger.record(*reports)


def test_a_write_to_a_long_history_reads_a_bounded_number_of_events(
        services: Services, loads: list[dict[UUID, Loaded]]) -> None:
    grow(services, LONG, 3000)
    loads.clear()
    snapshot_every = services.ledger.store.snapshot_every  # type: ignore[attr-defined]
    for i in range(snapshot_every * 2):  # every place between two snapshots
        assert services.ledger.record(Sent(LONG, f"more-{i}", NOW, "api")) == [True]
    read = [loaded[address_id(LONG)] for loaded in loads]
    assert all(r.snapshot is not None for r in read)
    assert max(len(r.events) for r in read) < snapshot_every
    assert services.reader.status(LONG)["counts"]["sent"] == 1500 + 2 * snapshot_every


def test_duplicates_are_still_refused_after_a_snapshot(services: Services) -> None:
    grow(services, LONG, 300)
    assert services.ledger.record(Sent(LONG, "m0", NOW, "api"),
                                  Delivery(LONG, "m298", NOW, "sns")) == [False, False]
    history = services.ledger.history(LONG)
    assert len(history) == 301


def bounce(i: int) -> Bounce:
    return Bounce(f"rt{i}@example.com", f"f{i}", "Permanent", "General", NOW, "sns",
                  sender="example.org", diagnostic="550 5.1.1 no such user")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_batch_of_webhook_reports_costs_at_most_one_statement_each(
        services: Services) -> None:
    """Group commit writes 16 notifications' reports in one transaction: the lock, the
    views' tracking, keys, aggregates, events, the views' rows and the commit."""
    services.ledger.record(*[Sent(f"rt{i}@example.com", f"s{i}", NOW, "api",
                                  sender="example.org") for i in range(16)])
    before = services.db.counter.statements
    assert services.ledger.record(*[bounce(i) for i in range(16)]) == [True] * 16
    statements = services.db.counter.statements - before
    assert statements <= 16, statements


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sixteen_concurrent_notifications_cost_at_most_two_statements_each(
        services: Services) -> None:
    services.ledger.record(*[Sent(f"rt{i}@example.com", f"s{i}", NOW, "api",
                                  sender="example.org") for i in range(64)])
    before = services.db.counter.statements
    barrier = threading.Barrier(16)

    def client(n: int) -> None:
        barrier.wait()
        for i in range(n, 64, 16):
            assert services.committer.submit([bounce(i)]) == [True]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_notification = (services.db.counter.statements - before) / 64
    assert per_notification <= 2, per_notification
    assert {k.status for k in services.reader.statuses(
        [f"rt{i}@example.com" for i in range(64)]).values()} == {"bounced"}
