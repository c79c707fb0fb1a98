"""Snapshots and the bounded idempotency memory of an address (no I/O).

A snapshot plus the events after it must rebuild exactly the aggregate a full replay
rebuilds, whatever the history (erasures included), and the memory of seen reports must stay
bounded by time while still refusing every redelivery SNS and SQS can make.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing import domain as es_domain
from eventsourcing.application import Application
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.address import Address, report_key_of
from domain.reports import Bounce, Delay, Rejection
from domain.seen import WINDOW, SeenReports, SeenReportsAsDict
from tests.domain.helpers import ADDRESS, complaint, delivery, hard, sent, soft


class Clock:
    """The library stamps events with the wall clock; tests move it by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr(es_domain, "datetime_now_with_tzinfo", c)
    yield c


class App(Application):
    is_snapshotting_enabled = True

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(SeenReportsAsDict())


def state(agg: Address) -> dict[str, Any]:
    """Everything but the memory of seen reports (snapshots leave it to the report index)."""
    return {"version": agg.version, "address": agg.address, "erased": agg.erased,
            "modified_on": agg.modified_on}


def index_of(events: list[Any]) -> set[str]:
    """What the write path's report index holds after ``events``: the keys recorded since
    the last erasure, within the window of the newest event (import keys for good)."""
    since = max((i for i, e in enumerate(events) if type(e).__name__ == "Erased"), default=-1)
    newest = events[-1].timestamp
    keys = set()
    for event in events[since + 1:]:
        key = report_key_of(event)
        if key and (key.startswith("import:") or event.timestamp >= newest - WINDOW):
            keys.add(key)
    return keys


def keys_of(seen: SeenReports) -> set[str]:
    state = seen.state()
    return set(state["stamped"]) | set(state["permanent"])


report = st.one_of(
    st.builds(lambda i: sent(1, mid=f"m{i}"), st.integers(0, 8)),
    st.builds(lambda i: delivery(1, mid=f"m{i}"), st.integers(0, 8)),
    st.builds(lambda i: soft(1, fid=f"s{i}"), st.integers(0, 8)),
    st.builds(lambda i: hard(1, fid=f"h{i}"), st.integers(0, 3)),
    st.builds(lambda i: complaint(1, fid=f"k{i}"), st.integers(0, 3)),
)
step = st.one_of(report, st.just("erase"), st.just("again"),
                 st.floats(0.5, 40).map(lambda days: timedelta(days=days)))


def run(steps: list[Any], clock: Clock | None = None) -> Address:
    agg = Address(address=ADDRESS)
    for item in steps:
        if isinstance(item, timedelta):
            if clock is not None:
                clock.now += item
        elif item == "erase":
            agg.erase(actor="a", reason="r", status="ok", blocked=False, address_hash=None,
                      occurred_at=datetime(2026, 1, 1, tzinfo=UTC), source="api")
        elif item == "again":
            agg.register_again(address=ADDRESS)
        elif not agg.erased:
            agg.record(item)
    return agg


@settings(max_examples=60, deadline=None)
@given(st.lists(step, max_size=40), st.data())
def test_a_snapshot_and_the_events_after_it_rebuild_the_same_aggregate(
        steps: list[Any], data: st.DataObject) -> None:
    with pytest.MonkeyPatch.context() as patch:
        clock = Clock()
        patch.setattr(es_domain, "datetime_now_with_tzinfo", clock)
        agg = run(steps, clock)
        events = agg.collect_events()
        app = App(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        at = data.draw(st.integers(1, len(events)))
        replayed: Any = None
        for event in events[:at]:
            replayed = event.mutate(replayed)
        stored = app.mapper.to_stored_event(Address.Snapshot.take(replayed))
        from_snapshot = app.mapper.to_domain_event(stored).mutate(None)
        for event in events[at:]:
            from_snapshot = event.mutate(from_snapshot)
        full: Any = None
        for event in events:
            full = event.mutate(full)
        assert state(from_snapshot) == state(full) == state(agg)
        assert keys_of(full.seen) == keys_of(agg.seen) == index_of(events)


def test_a_redelivery_within_the_window_changes_nothing(clock: Clock) -> None:
    agg = Address(address=ADDRESS)
    assert agg.record(hard(1, fid="f1"))
    clock.now += timedelta(days=14, hours=23)  # SQS keeps a message at most 14 days
    for i in range(100):
        agg.record(sent(2, mid=f"other-{i}"))
    assert agg.record(hard(1, fid="f1")) is False


def test_keys_older_than_the_window_are_forgotten(clock: Clock) -> None:
    agg = Address(address=ADDRESS)
    for i in range(50):
        agg.record(sent(1, mid=f"old-{i}"))
    clock.now += WINDOW + timedelta(seconds=1)
    agg.record(delivery(2, mid="new"))
    assert len(agg.seen) == 1 and "delivery:new" in agg.seen


def test_the_memory_stays_bounded_over_years_of_daily_mail(clock: Clock) -> None:
    agg = Address(address=ADDRESS)
    for day in range(3 * 365):
        agg.record(sent(day, mid=f"m{day}"))
        agg.record(delivery(day, mid=f"m{day}"))
        clock.now += timedelta(days=1)
    assert agg.version == 1 + 2 * 3 * 365
    assert len(agg.seen) <= 2 * (WINDOW.days + 1)


def test_import_keys_are_kept_for_good(clock: Clock) -> None:
    agg = Address(address=ADDRESS)
    assert agg.suppress(actor="x", reason="list-2024", occurred_at=clock.now, source="import")
    clock.now += timedelta(days=400)
    agg.record(sent(1, mid="later"))
    assert agg.suppress(actor="x", reason="list-2024", occurred_at=clock.now,
                        source="import") is False


def test_seen_reports_survive_the_transcoder() -> None:
    seen = SeenReports({"sent:a": datetime(2026, 1, 1, tzinfo=UTC)}, ["import:x"])
    transcoder = JSONTranscoder()
    transcoder.register(SeenReportsAsDict())
    transcoder.register(DatetimeAsISO())
    assert transcoder.decode(transcoder.encode(seen)) == seen


@pytest.mark.parametrize("make", [
    lambda: sent(1, mid="k"), lambda: delivery(1, mid="k"), lambda: soft(1, fid="k"),
    lambda: hard(1, fid="k"), lambda: complaint(1, fid="k"),
    lambda: Bounce(ADDRESS, "k", "Permanent", "General", datetime(2026, 1, 1, tzinfo=UTC),
                   "sns", diagnostic="550 5.7.1 Service unavailable; Client host "
                   "[192.0.2.1] blocked using zen.spamhaus.org"),
    lambda: Delay(ADDRESS, "k", datetime(2026, 1, 1, tzinfo=UTC), "sns"),
    lambda: Rejection(ADDRESS, "k", datetime(2026, 1, 1, tzinfo=UTC), "sns"),
])
def test_the_report_index_key_is_the_key_the_event_records(make: Any) -> None:
    """The write path indexes ``report_key_of(event)``; it must be what the aggregate
    itself remembers, or a duplicate would slip through after a snapshot."""
    report = make()
    agg = Address(address=ADDRESS)
    agg.collect_events()
    assert agg.record(report)
    [event] = agg.collect_events()
    assert keys_of(agg.seen) == {report_key_of(event)} == {report.key}
