"""The mutable fold (``domain.folding``) gives exactly the standing and verdict of
``policy.fold`` for any history, under any policy, from any starting standing; a standing's
stored text is the same however it is written."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.address import Address
from domain.folding import JUDGED, READS_FIELDS, Folding
from domain.policy import Mark, Policy, Standing, fold, verdict
from domain.standing_json import dump_standing, standing_text
from tests.domain.helpers import T0

times = st.integers(0, 60).map(lambda h: T0 + timedelta(hours=6 * h))
texts = st.sampled_from(["550 user unknown", "452 mailbox full", "421 try later"])


def make(kind: str, **fields: Any) -> Any:
    """An event of class ``Address.<kind>`` with only the fields the folds read."""
    event = object.__new__(getattr(Address, kind))
    vars(event).update(fields)
    return event


def _bounce(kind: str) -> st.SearchStrategy[Any]:
    return st.builds(lambda at, sub, diag: make(kind, occurred_at=at, bounce_subtype=sub,
                                                diagnostic=diag),
                     times, st.sampled_from(["General", "MailboxFull", "ContentRejected",
                                             "OnAccountSuppressionList"]), texts)


events = st.one_of(
    st.builds(lambda at: make("MessageSent", occurred_at=at), times),
    st.builds(lambda at: make("SendBlocked", occurred_at=at), times),
    st.builds(lambda at: make("Delivered", occurred_at=at), times),
    _bounce("SoftBounced"), _bounce("SoftBounced"), _bounce("HardBounced"),
    st.builds(lambda at, kind: make("Complained", occurred_at=at, feedback_type=kind),
              times, st.sampled_from(["abuse", "not-spam", "virus", None])),
    st.builds(lambda at: make("StatusReset", occurred_at=at), times),
    st.builds(lambda at, source: make("Suppressed", occurred_at=at, source=source,
                                      reason="asked"), times, st.sampled_from(["api", "import"])),
    st.builds(lambda at, since: make("SoftBounceEscalated", occurred_at=at, streak_since=since,
                                     diagnostic="452"), times, times),
    st.builds(lambda at, status, blocked: make("Erased", occurred_at=at, status=status,
                                               blocked=blocked),
              times, st.sampled_from(["ok", "soft_bounced", "bounced", "complained",
                                      "suppressed"]), st.booleans()),
    st.builds(lambda at: make("DeliveryDelayed", occurred_at=at), times),
    st.builds(lambda: make("Registered")),
)
policies = st.builds(Policy, soft_bounce_limit=st.integers(1, 4),
                     soft_bounce_window=st.integers(1, 20).map(lambda d: timedelta(days=d)),
                     complaint_limit=st.integers(1, 3))


@settings(max_examples=400, deadline=None)
@given(history=st.lists(events, max_size=30), policy=policies)
def test_the_mutable_fold_equals_the_frozen_fold(history: list[Any], policy: Policy) -> None:
    folding = Folding(policy)
    for event in history:
        folding.apply(type(event), vars(event))
    assert folding.standing() == fold(history, policy)
    assert folding.verdict() == verdict(fold(history, policy), policy)


@settings(max_examples=200, deadline=None)
@given(before=st.lists(events, max_size=15), after=st.lists(events, max_size=15),
       policy=policies)
def test_folding_on_from_a_stored_standing_equals_folding_everything(
        before: list[Any], after: list[Any], policy: Policy) -> None:
    folding = Folding(policy, fold(before, policy))
    for event in after:
        folding.apply(type(event), vars(event))
    assert folding.standing() == fold(before + after, policy)


@settings(max_examples=300, deadline=None)
@given(history=st.lists(events, max_size=30), policy=policies)
def test_only_judged_events_can_change_the_verdict(history: list[Any],
                                                   policy: Policy) -> None:
    folding = Folding(policy)
    for event in history:
        before = folding.verdict()
        folding.apply(type(event), vars(event))
        if type(event) not in JUDGED:
            assert folding.verdict() == before


marks = st.builds(Mark, times, st.text(max_size=8),
                  st.one_of(st.none(), st.text(max_size=12)))
standings = st.builds(
    Standing, counts=st.tuples(*[st.integers(0, 10**6)] * 6),
    reset_at=st.one_of(st.none(), times), hard=st.lists(marks, max_size=3).map(tuple),
    complaints=st.lists(marks, max_size=3).map(tuple),
    soft=st.lists(marks, max_size=3).map(tuple),
    deliveries=st.lists(times, max_size=3).map(tuple),
    suppressed=st.one_of(st.none(), marks), escalated=st.one_of(st.none(), marks),
    last_event_at=st.one_of(st.none(), times), erased=st.one_of(st.none(), marks))


@given(standing=standings)
def test_standing_text_is_the_json_dumps_of_the_standing(standing: Standing) -> None:
    assert standing_text(standing) == json.dumps(dump_standing(standing))


@settings(max_examples=300, deadline=None)
@given(history=st.lists(events, max_size=30), policy=policies)
def test_events_outside_reads_fields_fold_from_their_time_alone(history: list[Any],
                                                               policy: Policy) -> None:
    full, timed = Folding(policy), Folding(policy)
    for event in history:
        kind = type(event)
        full.apply(kind, vars(event))
        timed.apply(kind, vars(event) if kind in READS_FIELDS
                    else {"occurred_at": getattr(event, "occurred_at", None)})
    assert timed.standing() == full.standing()
