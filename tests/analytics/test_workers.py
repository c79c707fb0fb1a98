"""Worker processes over one shared snapshot (``projections.workers``): results in order,
failures surfaced, and every worker sees the log as it was when the work began."""

from __future__ import annotations

import os
import time

import pytest

from api.services import Services
from domain.reports import Sent
from projections.workers import WorkerFailed, in_order, reader
from tests.analytics.ledgers import T0


def head_in_worker(shared: str) -> int:
    """In a worker: the head of the log inside the shared snapshot."""
    with reader().log.snapshot(join=shared) as snapshot:
        return snapshot.head


def test_a_worker_sees_the_snapshot_it_joined_not_what_came_after(
        services: Services, database_url: str) -> None:
    log = services.event_log()
    services.ledger.record(Sent("a@example.com", "m1", T0, "api"))
    if database_url.startswith("sqlite"):
        with pytest.raises(ValueError, match="only PostgreSQL shares a snapshot"):
            log.snapshot(share=True).__enter__()
        return
    with log.snapshot(share=True) as snapshot:
        assert snapshot.shared and snapshot.head == 2
        services.ledger.record(Sent("b@example.com", "m2", T0, "api"))
        seen = list(in_order(log, [(head_in_worker, (snapshot.shared,))] * 3, 2))
    assert seen == [2, 2, 2]
    with log.snapshot() as later:
        assert later.head == 4


def test_results_come_in_task_order_and_failures_surface(services: Services) -> None:
    log = services.event_log()
    slow_first = [(time.sleep, (0.5,)), (abs, (-5,)), (divmod, (7, 2))]
    assert list(in_order(log, slow_first, 2)) == [None, 5, (3, 1)]
    with pytest.raises(ValueError, match="invalid literal"):
        list(in_order(log, [(abs, (-1,)), (int, ("x",))], 2))
    with pytest.raises(WorkerFailed, match="--workers 1"):
        list(in_order(log, [(os._exit, (9,)), (abs, (-1,))], 2))
