"""Every row of SPEC §3, on aggregate events folded by the policy (no I/O)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.policy import Policy, fold, verdict
from tests.domain.helpers import (
    blocked,
    complaint,
    day,
    delivery,
    hard,
    record,
    reset,
    sent,
    soft,
    status_after,
    suppress,
)


def test_unknown_history_is_ok_and_sendable() -> None:
    result = status_after([])
    assert (result.status, result.sendable) == ("ok", True)


@pytest.mark.parametrize("subtype", ["General", "NoEmail", "UnsubscribedRecipient"])
def test_hard_bounce_blocks_immediately(subtype: str) -> None:
    result = status_after([hard(0, subtype=subtype)])
    assert (result.status, result.reason, result.sendable) == ("bounced", "hard_bounce", False)
    assert result.diagnostic == "smtp; 550 5.1.1 user unknown"
    assert result.since == day(0)


@pytest.mark.parametrize("subtype", ["OnAccountSuppressionList", "Suppressed"])
def test_ses_suppression_subtypes_say_ses_dropped_it(subtype: str) -> None:
    result = status_after([hard(0, subtype=subtype)])
    assert (result.status, result.reason) == ("bounced", "ses_suppression_list")


def test_one_complaint_reaches_the_default_limit() -> None:
    result = status_after([complaint(0)])
    assert (result.status, result.reason, result.diagnostic) == ("complained", "complaint", "abuse")


def test_not_spam_feedback_is_not_a_complaint() -> None:
    assert status_after([complaint(0, feedback_type="not-spam")]).status == "ok"


def test_complaint_without_feedback_type_counts() -> None:
    assert status_after([complaint(0, feedback_type=None)]).status == "complained"


def test_complaint_limit_is_a_setting() -> None:
    policy = Policy(complaint_limit=2)
    assert status_after([complaint(0)], policy).status == "ok"
    assert status_after([complaint(0), complaint(1)], policy).status == "complained"


def test_soft_bounce_is_still_sendable() -> None:
    result = status_after([soft(0)])
    assert (result.status, result.sendable, result.reason) == ("soft_bounced", True, "soft_bounce")


def test_three_soft_bounces_within_window_block() -> None:
    result = status_after([soft(0), soft(5), soft(13)])
    assert (result.status, result.reason, result.since) == ("bounced", "soft_bounce_limit", day(13))


def test_soft_bounces_spread_wider_than_window_do_not_block() -> None:
    assert status_after([soft(0), soft(10), soft(15)]).status == "soft_bounced"


def test_delivery_between_soft_bounces_breaks_the_streak() -> None:
    assert status_after([soft(0), soft(1), delivery(2), soft(3)]).status == "soft_bounced"


def test_soft_bounce_limit_and_window_are_settings() -> None:
    policy = Policy(soft_bounce_limit=2, soft_bounce_window=timedelta(days=1))
    assert status_after([soft(0), soft(0.5)], policy).status == "bounced"
    assert status_after([soft(0), soft(2)], policy).status == "soft_bounced"


@pytest.mark.parametrize("subtype", ["ContentRejected", "AttachmentRejected", "MessageTooLarge"])
def test_sender_side_soft_bounces_do_not_count_against_the_mailbox(subtype: str) -> None:
    result = status_after([soft(0, subtype=subtype), soft(1, subtype=subtype),
                           soft(2, subtype=subtype)])
    assert result.status == "ok"


def test_delivery_ends_a_soft_bounce_streak() -> None:
    assert status_after([soft(0), delivery(1)]).status == "ok"


@pytest.mark.parametrize("block", [hard(0), complaint(0)])
def test_delivery_never_lifts_a_block(block: object) -> None:
    assert not status_after([block, delivery(1)]).sendable  # type: ignore[list-item]


def test_reset_returns_to_ok_and_restarts_counters() -> None:
    agg, events = record([soft(0), soft(1), soft(2)])
    events += reset(agg, 3)
    _, more = record([soft(4), soft(5)], agg)
    policy = Policy()
    standing = fold(events + more, policy)
    assert verdict(fold(events, policy), policy).status == "ok"
    assert verdict(standing, policy).status == "soft_bounced"
    assert standing.count("soft_bounces") == 5


def test_reports_that_happened_before_a_reset_do_not_count_after_it() -> None:
    agg, events = record([sent(0)])
    events += reset(agg, 5)
    _, late = record([hard(4)], agg)
    assert verdict(fold(events + late, Policy()), Policy()).status == "ok"


def test_suppress_blocks_and_outranks_other_statuses() -> None:
    agg, events = record([hard(0)])
    events += suppress(agg, 1)
    result = verdict(fold(events, Policy()), Policy())
    assert (result.status, result.reason, result.diagnostic) == (
        "suppressed", "manual_suppression", "asked to stop")


def test_complaint_outranks_a_bounce() -> None:
    assert status_after([hard(0), complaint(1)]).status == "complained"


def test_blocked_sends_and_sends_are_counted() -> None:
    _, events = record([sent(0), sent(1), blocked(2)])
    counts = fold(events, Policy()).counts_dict()
    assert (counts["sent"], counts["blocked"]) == (2, 1)


def test_a_report_may_arrive_before_its_send() -> None:
    result = status_after([hard(1, fid="f"), sent(0, mid="m")])
    assert result.status == "bounced"


def test_duplicate_feedback_id_is_recorded_once() -> None:
    _, events = record([hard(0, fid="f1"), hard(0, fid="f1")])
    assert [type(e).__name__ for e in events] == ["Registered", "HardBounced"]


def test_duplicate_delivery_message_id_is_recorded_once() -> None:
    _, events = record([delivery(0, mid="m"), delivery(0, mid="m")])
    assert [type(e).__name__ for e in events] == ["Registered", "Delivered"]


def test_late_delivery_between_soft_bounces_gives_the_in_order_result() -> None:
    in_order = status_after([soft(0), delivery(1), soft(2), soft(3)])
    reordered = status_after([soft(0), soft(2), soft(3), delivery(1)])
    assert in_order == reordered
    assert in_order.status == "soft_bounced"


def test_delays_and_rejections_are_recorded_once_and_leave_the_status_alone() -> None:
    from domain.reports import Delay, Rejection
    from tests.domain.helpers import ADDRESS

    reports = [Delay(ADDRESS, "m1", day(0), "sns", delay_type="MailboxFull"),
               Delay(ADDRESS, "m1", day(0), "sns", delay_type="MailboxFull"),
               Rejection(ADDRESS, "m2", day(1), "sns", reason="Bad content"),
               Rejection(ADDRESS, "m2", day(1), "sns", reason="Bad content")]
    _, events = record(reports)
    assert [type(e).__name__ for e in events] == ["Registered", "DeliveryDelayed", "Rejected"]
    assert status_after(reports).status == "ok"


def test_streak_older_than_grace_escalates_once() -> None:
    from domain.policy import grace_expired

    agg, events = record([soft(0)])
    policy = Policy()
    assert grace_expired(fold(events, policy), policy, day(13)) is None
    expired = grace_expired(fold(events, policy), policy, day(14))
    assert expired is not None and expired.since == day(0)
    agg.record_soft_bounce_escalated(streak_since=day(0), diagnostic=expired.diagnostic,
                                     occurred_at=day(14), source="job")
    events += list(agg.collect_events())
    result = verdict(fold(events, policy), policy)
    assert (result.status, result.reason) == ("bounced", "transient_grace_expired")
    assert grace_expired(fold(events, policy), policy, day(30)) is None


def test_delivery_before_grace_ends_prevents_escalation() -> None:
    from domain.policy import grace_expired

    _, events = record([soft(0), delivery(3)])
    assert grace_expired(fold(events, Policy()), Policy(), day(20)) is None
