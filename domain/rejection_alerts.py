"""When sender-side rejections (SPEC §3.1) pile up, the sender has a problem to fix now.

A burst of refusals by receiving servers means the sending IP or domain landed on a
blocklist, authentication broke (a DNS change, an expired DKIM key), or the content trips
spam filters. ``rejection_alert`` says so — which kind, how many, and the latest diagnostic
— once a window holds at least ``min_rejections`` of them and, when sends are known, at
least ``min_share`` of the sends in the same window. The sender rules turn an alert into a
``warned`` state (rule ``sender_rejections``); the console and ``/v1/senders`` show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.failure_classes import (
    CLASS_LABELS,
    CONTENT,
    POLICY,
    SENDER_AUTH,
    SENDER_REPUTATION,
    describe,
)

# The order of concern when two classes tie: a blocklist first, then authentication.
SENDER_CLASSES = (SENDER_REPUTATION, SENDER_AUTH, CONTENT, POLICY)
RULE = "sender_rejections"
_SHOWN = 300  # characters of a diagnostic quoted in a warning


@dataclass(frozen=True)
class RejectionPolicy:
    """Thresholds of the warning; defaults are conservative (a few refusals are normal)."""

    window: timedelta = timedelta(hours=24)
    min_rejections: int = 10
    min_share: float = 0.05

    def __post_init__(self) -> None:
        if self.min_rejections < 1 or not 0 <= self.min_share <= 1:
            raise ValueError("min_rejections must be at least 1 and min_share within 0..1")
        if self.window <= timedelta(0):
            raise ValueError("the window must be positive")


@dataclass(frozen=True)
class LatestRejection:
    """The most recent rejection of one class: what the receiving server said."""

    failure_class: str
    rule: str | None
    status_code: str | None
    diagnostic: str | None
    at: datetime | None

    @property
    def words(self) -> str:
        return describe(self.failure_class, self.rule)


@dataclass(frozen=True)
class Rejections:
    """One sender's sender-side rejections in a window, the sends in the same window, and
    the latest rejection of each class."""

    by_class: Mapping[str, int] = field(default_factory=dict)
    sent: int = 0
    latest: Mapping[str, LatestRejection] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_class.get(c, 0) for c in SENDER_CLASSES)

    @property
    def share(self) -> float:
        return self.total / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class RejectionAlert:
    """A spike of sender-side rejections, led by ``failure_class``."""

    failure_class: str
    count: int
    total: int
    sent: int
    window: timedelta
    latest: LatestRejection | None

    @property
    def label(self) -> str:
        return CLASS_LABELS[self.failure_class]

    @property
    def message(self) -> str:
        hours = self.window.total_seconds() / 3600
        share = f" ({self.total / self.sent:.2%} of {self.sent} sends)" if self.sent else ""
        text = (f"{self.total} sender-side rejections in {hours:g} h{share}, "
                f"{self.count} of them {self.label}")
        if self.latest is not None and self.latest.diagnostic:
            text += f"; latest: {self.latest.diagnostic[:_SHOWN]}"
        return text


def rejection_alert(rejections: Rejections, policy: RejectionPolicy) -> RejectionAlert | None:
    """The alert this window calls for, or ``None`` while refusals stay occasional."""
    total = rejections.total
    if total < policy.min_rejections:
        return None
    if rejections.sent and rejections.share < policy.min_share:
        return None
    lead = max(SENDER_CLASSES, key=lambda c: (rejections.by_class.get(c, 0),
                                              -SENDER_CLASSES.index(c)))
    return RejectionAlert(lead, rejections.by_class.get(lead, 0), total, rejections.sent,
                          policy.window, rejections.latest.get(lead))
