"""Event topics are a stored contract: renaming a class or module breaks stored events."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.address import Address

EXPECTED = [
    "Registered", "MessageSent", "SendBlocked", "Delivered", "SoftBounced", "HardBounced",
    "Complained", "EmailChangedTo", "EmailChangedFrom", "StatusReset", "Suppressed",
    "DeliveryDelayed", "Rejected", "SoftBounceEscalated", "Erased", "RegisteredAgain",
]


def test_event_topics_are_pinned() -> None:
    for name in EXPECTED:
        assert get_topic(getattr(Address, name)) == f"domain.address:Address.{name}"


def test_aggregate_topic_is_pinned() -> None:
    assert get_topic(Address) == "domain.address:Address"
