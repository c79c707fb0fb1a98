"""Event topics are a stored contract: renaming a class or module breaks stored events."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.address import Address

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
