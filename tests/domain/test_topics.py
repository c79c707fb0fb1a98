"""Event topics are a stored contract: renaming a class or module breaks stored events."""

from __future__ import annotations

from dataclasses import fields

from eventsourcing.utils import get_topic

from domain.address import Address
from domain.reports import Bounce, Delay, Rejection
from tests.domain.helpers import (
    ADDRESS,
    blocked,
    complaint,
    day,
    delivery,
    hard,
    record,
    sent,
    soft,
)

EXPECTED = [
    "SenderRejected",
    "Registered", "MessageSent", "SendBlocked", "Delivered", "SoftBounced", "HardBounced",
    "Complained", "EmailChangedTo", "EmailChangedFrom", "StatusReset", "Suppressed",
    "DeliveryDelayed", "Rejected", "SoftBounceEscalated", "Erased", "RegisteredAgain",
    "AddedToSesSuppressionList", "RemovedFromSesSuppressionList",
]


def test_event_topics_are_pinned() -> None:
    for name in EXPECTED:
        assert get_topic(getattr(Address, name)) == f"domain.address:Address.{name}"


def test_aggregate_topic_is_pinned() -> None:
    assert get_topic(Address) == "domain.address:Address"


def test_bounce_events_are_version_2_with_an_upcaster_from_version_1() -> None:
    for name in ("HardBounced", "SoftBounced"):
        cls = getattr(Address, name)
        assert cls.class_version == 2
        state: dict[str, object] = {"diagnostic": "x"}
        cls.upcast_v1_v2(state)
        assert state == {"diagnostic": "x", "failure_class": None, "rule": None}


# Each event's stored fields, in the order they are stored (the state of a stored event).
FIELDS = {
    "Registered": ("originator_topic", "address"),
    "MessageSent": ("message_id", "sender", "profile_id", "occurred_at", "source"),
    "SendBlocked": ("status", "reason", "sender", "profile_id", "occurred_at", "source"),
    "Delivered": ("message_id", "sender", "reporting_mta", "smtp_response", "occurred_at",
                  "source"),
    "SoftBounced": ("message_id", "feedback_id", "bounce_type", "bounce_subtype", "diagnostic",
                    "status_code", "action", "reporting_mta", "sender", "occurred_at", "source",
                    "failure_class", "rule"),
    "HardBounced": ("message_id", "feedback_id", "bounce_type", "bounce_subtype", "diagnostic",
                    "status_code", "action", "reporting_mta", "sender", "occurred_at", "source",
                    "failure_class", "rule"),
    "SenderRejected": ("message_id", "feedback_id", "bounce_type", "bounce_subtype",
                       "failure_class", "rule", "status_code", "diagnostic", "reporting_mta",
                       "sender", "occurred_at", "source"),
    "Complained": ("message_id", "feedback_id", "feedback_type", "complaint_subtype",
                   "user_agent", "sender", "occurred_at", "source"),
    "DeliveryDelayed": ("message_id", "delay_type", "expiration_time", "diagnostic",
                        "status_code", "reporting_mta", "sender", "occurred_at", "source"),
    "Rejected": ("message_id", "reason", "sender", "occurred_at", "source"),
    "EmailChangedTo": ("profile_id", "new_address", "actor", "occurred_at", "source"),
    "EmailChangedFrom": ("profile_id", "old_address", "actor", "occurred_at", "source"),
    "StatusReset": ("actor", "reason", "consent", "occurred_at", "source"),
    "Suppressed": ("actor", "reason", "occurred_at", "source"),
    "SoftBounceEscalated": ("streak_since", "diagnostic", "occurred_at", "source"),
    "Erased": ("actor", "reason", "status", "blocked", "address_hash", "occurred_at", "source"),
    "RegisteredAgain": ("address",),
    "AddedToSesSuppressionList": ("reason", "request", "cause", "occurred_at", "source"),
    "RemovedFromSesSuppressionList": ("request", "cause", "found", "occurred_at", "source"),
}
HEADER = ("originator_id", "originator_version", "timestamp")


def test_event_fields_are_pinned_in_stored_order() -> None:
    assert set(FIELDS) == set(EXPECTED)
    for name, names in FIELDS.items():
        assert tuple(f.name for f in fields(getattr(Address, name))) == (*HEADER, *names), name


def test_every_report_stores_exactly_the_pinned_fields_in_order() -> None:
    reports = [sent(0), blocked(0), delivery(0), hard(0), soft(0), complaint(0),
               Bounce(ADDRESS, "sr", "Permanent", "General", day(0), "sns",
                      diagnostic="smtp; 550 5.7.1 blocked using Spamhaus", status_code="5.7.1"),
               Delay(ADDRESS, "m", day(0), "sns"), Rejection(ADDRESS, "m", day(0), "sns")]
    _, events = record(reports)
    stored = {type(e).__name__: tuple(vars(e)) for e in events}
    assert set(stored) == {"Registered", "MessageSent", "SendBlocked", "Delivered",
                           "HardBounced", "SoftBounced", "Complained", "SenderRejected",
                           "DeliveryDelayed", "Rejected"}
    for name, names in stored.items():
        assert names == (*HEADER, *FIELDS[name]), name
