"""Hypothesis properties of the status policy and the aggregate (no I/O)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from eventsourcing.application import Application
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.addresses import address_id
from domain.policy import Policy, fold, verdict
from domain.reports import Report
from domain.standing_json import dump_standing, load_standing
from tests.domain.helpers import (
    ADDRESS,
    complaint,
    delivery,
    hard,
    record,
    reset,
    sent,
    soft,
)

# Reports spread over 10 days: inside the window, where reordering must not matter.
times = st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: round(x, 3))
report = st.one_of(
    st.builds(lambda n, i: soft(n, fid=f"s{i}"), times, st.integers(0, 30)),
    st.builds(lambda n, i: soft(n, fid=f"c{i}", subtype="ContentRejected"), times,
              st.integers(0, 5)),
    st.builds(lambda n, i: hard(n, fid=f"h{i}"), times, st.integers(0, 5)),
    st.builds(lambda n, i: complaint(n, fid=f"k{i}"), times, st.integers(0, 5)),
    st.builds(lambda n, i: complaint(n, fid=f"n{i}", feedback_type="not-spam"), times,
              st.integers(0, 5)),
    st.builds(lambda n, i: delivery(n, mid=f"d{i}"), times, st.integers(0, 30)),
    st.builds(lambda n, i: sent(n, mid=f"m{i}"), times, st.integers(0, 30)),
)
reports = st.lists(report, max_size=25)
policies = st.builds(
    Policy, soft_bounce_limit=st.integers(1, 4),
    soft_bounce_window=st.integers(1, 20).map(lambda d: timedelta(days=d)),
    complaint_limit=st.integers(1, 3),
)


def status(rs: list[Report], policy: Policy) -> tuple[str, str | None]:
    _, events = record(rs)
    result = verdict(fold(events, policy), policy)
    return result.status, result.reason


@given(reports, policies)
def test_rebuilding_from_stored_events_equals_the_live_state(rs: list[Report],
                                                              policy: Policy) -> None:
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    agg, live_events = record(rs)
    app.save(*live_events)
    stored = list(app.events.get(address_id(ADDRESS)))
    assert fold(stored, policy) == fold(live_events, policy)
    assert app.repository.get(agg.id).seen == agg.seen


@given(reports, policies)
def test_folding_incrementally_through_json_equals_one_fold(rs: list[Report],
                                                            policy: Policy) -> None:
    _, events = record(rs)
    standing = None
    for event in events:
        if standing is not None:
            standing = load_standing(json.loads(json.dumps(dump_standing(standing))))
        standing = fold([event], policy, standing)
    assert standing == fold(events, policy)


@given(reports, st.data())
def test_duplicating_any_report_changes_nothing(rs: list[Report], data: st.DataObject) -> None:
    repeats = data.draw(st.lists(st.sampled_from(rs), max_size=10)) if rs else []
    positions = [data.draw(st.integers(0, len(rs))) for _ in repeats]
    with_duplicates = list(rs)
    for position, repeated in zip(positions, repeats, strict=True):
        with_duplicates.insert(position, repeated)
    assert status(with_duplicates, Policy()) == status(rs, Policy())


def distinct(rs: list[Report]) -> list[Report]:
    """The first report of each key: a later one with the same key (SES's feedback id or
    message id) is a duplicate, ignored whenever it arrives, and if its time differs the
    first to arrive decides (``test_duplicating_any_report_changes_nothing``)."""
    seen: set[str] = set()
    kept = []
    for r in rs:
        if r.key is None or r.key not in seen:
            kept.append(r)
            seen.add(r.key or "")
    return kept


@given(reports.map(distinct), st.randoms(use_true_random=False), policies)
def test_reordering_reports_within_the_window_changes_nothing(rs: list[Report], rnd,
                                                              policy: Policy) -> None:
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    assert status(shuffled, policy)[0] == status(rs, policy)[0]


@given(reports, policies)
def test_a_later_delivery_never_lifts_a_block(rs: list[Report], policy: Policy) -> None:
    before = status(rs, policy)[0]
    after = status([*rs, delivery(11, mid="late-delivery")], policy)[0]
    if before not in ("ok", "soft_bounced"):
        assert after == before


def later_copy(r: Report, days: float) -> Report:
    """The same kind of report, ``days`` later, with fresh ids (not a duplicate)."""
    changes: dict[str, object] = {"occurred_at": r.occurred_at + timedelta(days=days)}
    for name in ("feedback_id", "message_id"):
        if getattr(r, name, None):
            changes[name] = "later-" + getattr(r, name)
    return replace(r, **changes)  # type: ignore[arg-type]


@given(reports, reports, policies)
@settings(max_examples=50)
def test_reset_returns_to_ok_and_restarts_counters(first: list[Report], later: list[Report],
                                                   policy: Policy) -> None:
    agg, events = record(first)
    events += reset(agg, 10.5)
    assert verdict(fold(events, policy), policy).status == "ok"
    moved = [later_copy(r, 11) for r in later]
    _, more = record(moved, agg)
    after_reset = verdict(fold(events + more, policy), policy)
    assert after_reset.status == status(moved, policy)[0]
