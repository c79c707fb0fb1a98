"""SPEC §3 (sender-side row) and §3.1 on the aggregate and the status policy (no I/O)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from domain.address import Address
from domain.policy import Policy, fold, grace_expired, verdict
from domain.reports import Bounce, Report
from tests.domain.helpers import (
    ADDRESS,
    complaint,
    day,
    delivery,
    hard,
    record,
    sent,
    soft,
    status_after,
    unclassified_hard_bounce,
)
from tests.domain.test_properties import policies, reports

SPAMHAUS = ("smtp; 550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using "
            "Spamhaus. To request removal from this list see (AS16012611)")
DEFERRAL = ("smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.192 temporarily deferred due to "
            "unexpected volume or user complaints - 4.16.55.1")
NAMES_RECIPIENT = ("smtp; 550 5.7.1 <someone@example.com>: Recipient address rejected: "
                   "User unknown")
GMAIL_FULL = ("smtp; 552-5.2.2 The recipient's inbox is out of storage space and inactive. "
              "Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm")


def bounce(n: float, diagnostic: str | None, status: str | None, kind: str = "Permanent",
           fid: str = "", subtype: str = "General") -> Bounce:
    return Bounce(ADDRESS, fid or f"b-{n}", kind, subtype, day(n), "sns", message_id=f"m-{n}",
                  diagnostic=diagnostic, status_code=status, reporting_mta="dns; mx.example",
                  sender="shop.example")


def test_a_blocklisted_sender_records_sender_rejected_and_leaves_the_recipient_ok() -> None:
    _, events = record([bounce(0, SPAMHAUS, "5.7.1")])
    rejected = events[-1]
    assert type(rejected).__name__ == "SenderRejected"
    assert (rejected.failure_class, rejected.rule) == ("sender_reputation", "spamhaus_listed")
    assert (rejected.status_code, rejected.diagnostic, rejected.sender) == (
        "5.7.1", SPAMHAUS, "shop.example")
    assert (rejected.feedback_id, rejected.message_id, rejected.bounce_type) == (
        "b-0", "m-0", "Permanent")
    standing = fold(events, Policy())
    assert verdict(standing, Policy()).status == "ok"
    assert standing.counts_dict() == dict.fromkeys(standing.counts_dict(), 0)


def test_transient_reputation_deferrals_are_not_soft_bounces_and_never_escalate() -> None:
    _, events = record([bounce(n, DEFERRAL, "4.7.0", kind="Transient") for n in range(5)])
    assert {type(e).__name__ for e in events[1:]} == {"SenderRejected"}
    standing = fold(events, Policy())
    assert verdict(standing, Policy()).status == "ok"
    assert standing.count("soft_bounces") == 0
    assert grace_expired(standing, Policy(), day(60)) is None


def test_a_sender_rejection_leaves_a_soft_streak_as_it_was() -> None:
    with_rejection = status_after([soft(0), bounce(0.5, SPAMHAUS, "5.7.1"), soft(1)])
    without = status_after([soft(0), soft(1)])
    assert with_rejection == without
    assert with_rejection.status == "soft_bounced"


def test_a_5_7_1_naming_the_recipient_still_blocks() -> None:
    _, events = record([bounce(0, NAMES_RECIPIENT, "5.7.1")])
    assert type(events[-1]).__name__ == "HardBounced"
    assert (events[-1].failure_class, events[-1].rule) == ("recipient", "no_such_user")
    assert verdict(fold(events, Policy()), Policy()).status == "bounced"


def test_a_full_mailbox_is_a_soft_bounce_whatever_ses_says() -> None:
    _, events = record([bounce(0, GMAIL_FULL, "5.2.2", kind="Permanent")])
    assert type(events[-1]).__name__ == "SoftBounced"
    assert events[-1].failure_class == "mailbox_full"
    assert status_after([bounce(0, GMAIL_FULL, "5.2.2")]).status == "soft_bounced"


def test_an_unclassified_bounce_is_treated_as_today() -> None:
    _, events = record([bounce(0, "smtp; 550 Rejected", None)])
    assert type(events[-1]).__name__ == "HardBounced"
    assert (events[-1].failure_class, events[-1].rule) == ("unknown", "unclassified")
    assert status_after([bounce(0, None, None, kind="Transient")]).status == "soft_bounced"


def test_a_repeated_feedback_id_records_one_sender_rejection() -> None:
    agg = Address(address=ADDRESS)
    first, again = bounce(0, SPAMHAUS, "5.7.1", fid="f"), bounce(1, SPAMHAUS, "5.7.1", fid="f")
    assert agg.record(first) is True
    assert agg.record(again) is False
    assert [type(e).__name__ for e in agg.collect_events()] == ["Registered", "SenderRejected"]


def test_a_sender_rejection_and_a_bounce_share_the_feedback_id_space() -> None:
    agg = Address(address=ADDRESS)
    assert agg.record(bounce(0, SPAMHAUS, "5.7.1", fid="f")) is True
    assert agg.record(hard(1, fid="f")) is False


# -- events recorded before the classifier keep their meaning ------------------------------------


def _as_version_1(event: Any) -> Any:
    """Store a v2 bounce event, then rewrite its state as the code before the classifier
    wrote it (no class, no rule, no class_version), and read it back."""
    mapper = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    stored = mapper.to_stored_event(event)
    state = json.loads(stored.state)
    for key in ("failure_class", "rule", "class_version"):
        state.pop(key)
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                      json.dumps(state).encode())
    return mapper.to_domain_event(old)


def test_a_stored_version_1_hard_bounce_reads_without_a_class() -> None:
    _, events = record([hard(0)])
    old = _as_version_1(events[-1])
    assert type(old).__name__ == "HardBounced"
    assert (old.failure_class, old.rule, old.diagnostic) == (None, None, events[-1].diagnostic)


def test_replay_keeps_an_old_hard_bounce_that_the_classifier_would_not_block() -> None:
    agg = Address(address=ADDRESS)
    unclassified_hard_bounce(agg, feedback_id="f", diagnostic=SPAMHAUS, status_code="5.7.1",
                             occurred_at=day(0))
    events = list(agg.collect_events())
    old = [events[0], _as_version_1(events[1])]
    assert verdict(fold(old, Policy()), Policy()).status == "bounced"


def test_a_stored_version_1_soft_bounce_reads_without_a_class() -> None:
    _, events = record([soft(0)])
    old = _as_version_1(events[-1])
    assert type(old).__name__ == "SoftBounced" and old.failure_class is None
    assert verdict(fold([events[0], old], Policy()), Policy()).status == "soft_bounced"


# -- property: sender-side rejections never move the recipient's status ----------------------------

times = st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: round(x, 3))
SENDER_SIDE_TEXTS = [
    (SPAMHAUS, "5.7.1", "Permanent"), (DEFERRAL, "4.7.0", "Transient"),
    ("smtp; 550 5.7.26 Unauthenticated email from example.org is not accepted due to "
     "domain's DMARC policy", "5.7.26", "Permanent"),
    ("smtp; 554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.", "5.7.1",
     "Permanent"),
    ("451 4.7.1 Greylisting in action, please come back later", "4.7.1", "Transient"),
]
rejections = st.lists(st.builds(
    lambda n, i, text: bounce(n, text[0], text[1], kind=text[2], fid=f"r{i}"),
    times, st.integers(0, 1000), st.sampled_from(SENDER_SIDE_TEXTS)), max_size=8)


@given(reports, rejections, policies, st.randoms())
def test_sender_side_rejections_never_change_status_counts_or_streak(
        rs: list[Report], extra: list[Report], policy: Policy, rnd: Any) -> None:
    mixed = list(rs)
    for rejection in extra:
        mixed.insert(rnd.randint(0, len(mixed)), rejection)
    plain, with_rejections = fold(record(rs)[1], policy), fold(record(mixed)[1], policy)
    assert replace(with_rejections, last_event_at=None) == replace(plain, last_event_at=None)
    later = day(10) + policy.transient_grace + timedelta(days=1)
    assert grace_expired(with_rejections, policy, later) == grace_expired(plain, policy, later)


def test_helpers_cover_the_other_reports() -> None:
    """The property above mixes rejections into every kind of report the ledger takes."""
    kinds = {type(r).__name__ for r in [sent(0), delivery(0), complaint(0), hard(0)]}
    assert kinds == {"Sent", "Delivery", "Complaint", "Bounce"}
