"""Erasure in the domain: the fold keeps a block through ``Erased`` and ignores ``Redacted``."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from domain.address import Address
from domain.policy import Policy, fold, verdict
from domain.redaction import Redacted, event_type, redacted
from domain.reports import Report
from tests.domain.helpers import (
    ADDRESS,
    complaint,
    day,
    delivery,
    hard,
    record,
    sent,
    soft,
    suppress,
)
from tests.domain.test_properties import later_copy, policies, reports


def redact(events: list[Any]) -> list[Any]:
    """The events as a reader without the data key sees them."""
    return [redacted(e.originator_id, e.originator_version, type(e).__name__, e.timestamp,
                     getattr(e, "occurred_at", None)) for e in events]


def erase(agg: Address, policy: Policy, events: list[Any], n: float = 20) -> list[Any]:
    now = verdict(fold(events, policy), policy)
    agg.erase(actor="dpo", reason="art. 17 request", status=now.status,
              blocked=not now.sendable, address_hash=None if now.sendable else "h",
              occurred_at=day(n), source="api")
    return list(agg.collect_events())


def test_a_hard_bounced_address_stays_bounced_after_erasure() -> None:
    agg, events = record([sent(0), hard(1)])
    after = verdict(fold(redact(events) + erase(agg, Policy(), events), Policy()), Policy())
    assert (after.status, after.reason, after.diagnostic) == ("bounced", "erased", None)


def test_a_suppressed_address_stays_suppressed_after_erasure() -> None:
    agg, events = record([sent(0)])
    events += suppress(agg, 1)
    after = verdict(fold(redact(events) + erase(agg, Policy(), events), Policy()), Policy())
    assert (after.status, after.reason) == ("suppressed", "erased")


def test_an_ok_address_is_ok_after_erasure_with_zero_counts() -> None:
    agg, events = record([sent(0), delivery(1), soft(2)])
    standing = fold(redact(events) + erase(agg, Policy(), events), Policy())
    assert verdict(standing, Policy()).status == "ok"
    assert set(standing.counts) == {0}


def test_redacted_events_count_for_nothing() -> None:
    _, events = record([hard(1), complaint(2)])
    assert verdict(fold(redact(events), Policy()), Policy()).status == "ok"


def test_a_redacted_event_keeps_its_type_name_and_place() -> None:
    _, events = record([hard(1)])
    event = redact(events)[1]
    assert isinstance(event, Redacted)
    assert (event_type(event), event.originator_version) == ("HardBounced", 2)


def test_a_second_erasure_records_nothing() -> None:
    agg, events = record([hard(1)])
    erase(agg, Policy(), events)
    assert not agg.erase(actor="dpo", reason="again", status="bounced", blocked=True,
                         address_hash="h", occurred_at=day(21), source="api")


def test_a_new_fact_after_erasure_registers_the_address_again() -> None:
    agg, events = record([hard(1)])
    erase(agg, Policy(), events)
    agg.register_again(address=ADDRESS)
    agg.record(sent(22))
    names = [type(e).__name__ for e in agg.collect_events()]
    assert names == ["RegisteredAgain", "MessageSent"] and agg.address == ADDRESS


def test_an_aggregate_rebuilds_from_redacted_events() -> None:
    agg, events = record([sent(0), hard(1)])
    stored = redact(events) + erase(agg, Policy(), events)
    rebuilt: Any = None
    for event in stored:
        rebuilt = event.mutate(rebuilt)
    assert (rebuilt.version, rebuilt.erased, rebuilt.address) == (4, True, None)


@given(reports, reports, policies)
@settings(max_examples=80)
def test_erasure_never_turns_a_blocked_status_into_a_sendable_one(
        before: list[Report], after: list[Report], policy: Policy) -> None:
    agg, events = record(before)
    was = verdict(fold(events, policy), policy)
    history = redact(events) + erase(agg, policy, events)
    agg.register_again(address=ADDRESS)
    _, more = record([later_copy(r, 15) for r in after], agg)
    now = verdict(fold(history + more, policy), policy)
    if not was.sendable:
        assert not now.sendable
