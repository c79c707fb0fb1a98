"""Sender rules: AWS-style rate thresholds with minimum volumes, and the abuse rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.sender import ACTIVE, PAUSED, WARNED, Sender, SenderPolicy, Volume, judge

P = SenderPolicy()
QUIET = Volume()


@pytest.mark.parametrize(("sent", "hard", "state"), [
    (1000, 49, ACTIVE), (1000, 50, WARNED), (1000, 99, WARNED), (1000, 100, PAUSED),
    (199, 199, ACTIVE),  # below the minimum volume the bounce rate does not count
])
def test_bounce_rate_thresholds(sent: int, hard: int, state: str) -> None:
    assert judge(Volume(sent=sent, hard_bounces=hard), QUIET, P).state == state


@pytest.mark.parametrize(("sent", "complaints", "state"), [
    (10_000, 9, ACTIVE), (10_000, 10, WARNED), (10_000, 50, PAUSED), (999, 500, ACTIVE),
])
def test_complaint_rate_thresholds(sent: int, complaints: int, state: str) -> None:
    assert judge(Volume(sent=sent, complaints=complaints), QUIET, P).state == state


def test_a_virus_complaint_pauses_at_once() -> None:
    result = judge(Volume(sent=5, complaints=1, virus_complaints=1), QUIET, P)
    assert (result.state, result.rule) == (PAUSED, "virus_complaint")


def test_hard_bounce_burst_pauses() -> None:
    burst = judge(QUIET, Volume(sent=30, hard_bounces=20), P)
    assert (burst.state, burst.rule) == (PAUSED, "hard_bounce_burst")
    assert judge(QUIET, Volume(sent=100, hard_bounces=20), P).state == ACTIVE
    assert judge(QUIET, Volume(sent=19, hard_bounces=19), P).state == ACTIVE


def test_only_an_admin_lifts_a_pause() -> None:
    sender = Sender(name="news")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert sender.apply_judgement(judge(Volume(sent=1000, hard_bounces=200), QUIET, P),
                                  occurred_at=now)
    assert not sender.apply_judgement(judge(QUIET, QUIET, P), occurred_at=now)
    assert sender.state == PAUSED
    assert sender.resume(actor="root", reason="list cleaned", occurred_at=now, source="api")
    assert sender.state == ACTIVE


def test_warned_returns_to_active_when_rates_recover() -> None:
    sender = Sender(name="news")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    sender.apply_judgement(judge(Volume(sent=1000, hard_bounces=60), QUIET, P), occurred_at=now)
    assert sender.state == WARNED
    assert sender.apply_judgement(judge(Volume(sent=1000), QUIET, P), occurred_at=now)
    assert sender.state == ACTIVE
