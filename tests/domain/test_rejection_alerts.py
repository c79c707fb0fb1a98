"""The spike of sender-side rejections: when it warns, which kind it names, what it says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rejection_alerts import (
    SENDER_CLASSES,
    LatestRejection,
    RejectionPolicy,
    Rejections,
    rejection_alert,
)
from domain.sender import ACTIVE, PAUSED, WARNED, SenderPolicy, Volume, judge

P = RejectionPolicy()
AT = datetime(2026, 5, 1, 9, tzinfo=UTC)
LISTED = LatestRejection("sender_reputation", "spamhaus_listed", "5.7.1",
                         "550 5.7.1 Client host [192.0.2.1] blocked using Spamhaus", AT)
DKIM = LatestRejection("sender_auth", "dkim_failed", "5.7.30",
                       "550 5.7.30 This mail has been blocked because DKIM does not pass.", AT)


def test_a_few_rejections_are_normal() -> None:
    assert rejection_alert(Rejections({"sender_reputation": 9}), P) is None


def test_enough_rejections_warn_and_name_the_leading_kind() -> None:
    alert = rejection_alert(Rejections({"sender_reputation": 3, "sender_auth": 8}, sent=100,
                                       latest={"sender_auth": DKIM}), P)
    assert alert is not None
    assert (alert.failure_class, alert.label, alert.count, alert.total) == (
        "sender_auth", "authentication", 8, 11)
    assert alert.message == ("11 sender-side rejections in 24 h (11.00% of 100 sends), 8 of "
                             "them authentication; latest: 550 5.7.30 This mail has been "
                             "blocked because DKIM does not pass.")


def test_a_small_share_of_many_sends_does_not_warn() -> None:
    assert rejection_alert(Rejections({"sender_reputation": 40}, sent=1000), P) is None
    assert rejection_alert(Rejections({"sender_reputation": 50}, sent=1000), P) is not None


def test_a_tie_names_the_blocklist_first() -> None:
    alert = rejection_alert(Rejections({"policy": 5, "sender_reputation": 5}), P)
    assert alert is not None and alert.failure_class == "sender_reputation"


def test_recipient_classes_are_not_counted() -> None:
    assert rejection_alert(Rejections({"recipient": 50, "unknown": 50}), P) is None


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError):
        RejectionPolicy(min_rejections=0)
    with pytest.raises(ValueError):
        RejectionPolicy(min_share=2)
    with pytest.raises(ValueError):
        RejectionPolicy(window=timedelta(0))


def test_the_alert_warns_a_sender_when_nothing_stronger_applies() -> None:
    alert = rejection_alert(Rejections({"sender_reputation": 12}, latest={
        "sender_reputation": LISTED}), P)
    warned = judge(Volume(sent=100), Volume(), SenderPolicy(), alert)
    assert (warned.state, warned.rule) == (WARNED, "sender_rejections")
    assert "Spamhaus" in (warned.detail or "")
    paused = judge(Volume(sent=1000, hard_bounces=200), Volume(), SenderPolicy(), alert)
    assert (paused.state, paused.rule) == (PAUSED, "bounce_rate")
    assert judge(Volume(sent=100), Volume(), SenderPolicy(), None).state == ACTIVE


@given(st.dictionaries(st.sampled_from(SENDER_CLASSES), st.integers(0, 200)),
       st.integers(0, 5000))
def test_an_alert_always_names_a_class_it_counted(by_class: dict[str, int], sent: int) -> None:
    alert = rejection_alert(Rejections(by_class, sent), P)
    if alert is not None:
        assert alert.count == max(by_class.values()) and alert.count > 0
        assert alert.total >= P.min_rejections
