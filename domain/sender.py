"""Sender reputation: who sends, how their mail fares, and whether they may go on sending.

Rates follow AWS's own review thresholds (bounce 5 % warn / 10 % pause, complaints 0.1 % /
0.5 %), each counted only past a minimum volume; two abuse rules pause at once: a burst of
hard bounces within an hour (address guessing) and any ``virus`` complaint. State changes
are events on a ``Sender`` aggregate that say which rule decided and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand
from domain.rejection_alerts import RULE as REJECTIONS_RULE
from domain.rejection_alerts import RejectionAlert

ACTIVE, WARNED, PAUSED = "active", "warned", "paused"
SENDER_NAMESPACE = uuid5(NAMESPACE_URL, "bounceledger:sender")


def sender_id(sender: str) -> UUID:
    return uuid5(SENDER_NAMESPACE, sender)


@dataclass(frozen=True)
class Volume:
    """Counts over a period (a rolling window or one hour)."""

    sent: int = 0
    delivered: int = 0
    hard_bounces: int = 0
    complaints: int = 0
    virus_complaints: int = 0

    @property
    def bounce_rate(self) -> float:
        return self.hard_bounces / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class SenderPolicy:
    bounce_warn: float = 0.05
    bounce_pause: float = 0.10
    complaint_warn: float = 0.001
    complaint_pause: float = 0.005
    min_sends_for_bounce_rate: int = 200
    min_sends_for_complaint_rate: int = 1000
    burst_hard_bounces: int = 20
    burst_share: float = 0.5


@dataclass(frozen=True)
class Judgement:
    state: str
    rule: str | None = None
    detail: str | None = None


def judge(week: Volume, hour: Volume, policy: SenderPolicy,
          rejections: RejectionAlert | None = None) -> Judgement:
    """The state the rules give a sender for its last 7 days and its busiest recent hour;
    a spike of sender-side rejections (``domain.rejection_alerts``) warns when nothing
    stronger applies."""
    if week.virus_complaints:
        return Judgement(PAUSED, "virus_complaint", "a recipient reported a virus")
    if hour.hard_bounces >= policy.burst_hard_bounces and (
            hour.hard_bounces >= policy.burst_share * max(hour.sent, 1)):
        return Judgement(PAUSED, "hard_bounce_burst",
                         f"{hour.hard_bounces} hard bounces of {hour.sent} sends in one hour")
    judged = _rate(week.bounce_rate, week.sent >= policy.min_sends_for_bounce_rate,
                   policy.bounce_warn, policy.bounce_pause, "bounce_rate")
    if judged.state == PAUSED:
        return judged
    complaint = _rate(week.complaint_rate, week.sent >= policy.min_sends_for_complaint_rate,
                      policy.complaint_warn, policy.complaint_pause, "complaint_rate")
    judged = complaint if complaint.state != ACTIVE else judged
    if judged.state == ACTIVE and rejections is not None:
        return Judgement(WARNED, REJECTIONS_RULE, rejections.message)
    return judged


def _rate(rate: float, counts: bool, warn: float, pause: float, rule: str) -> Judgement:
    if not counts:
        return Judgement(ACTIVE)
    detail = f"{rate:.2%} over 7 days (warn at {warn:.2%}, pause at {pause:.2%})"
    if rate >= pause:
        return Judgement(PAUSED, rule, detail)
    if rate >= warn:
        return Judgement(WARNED, rule, detail)
    return Judgement(ACTIVE)


class Sender(Aggregate):
    """One sender's state; changed by the rules (``decided_by`` "rules") or an admin."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return sender_id(name)

    class SenderRegistered(Aggregate.Created):
        """The first fact about a sender: its name."""

        name: str

    @event(SenderRegistered)
    def __init__(self, name: str) -> None:
        self.name = name
        self.state = ACTIVE

    def apply_judgement(self, judgement: Judgement, *, occurred_at: datetime) -> bool:
        """Follow the rules, except that only an admin lifts a pause."""
        if judgement.state == self.state or self.state == PAUSED:
            return False
        self._state_changed(self.name, judgement.state, judgement.rule, judgement.detail,
                            "rules", occurred_at, "job")
        return True

    def resume(self, *, actor: str, reason: str, occurred_at: datetime, source: str) -> bool:
        if not reason.strip():
            raise InvalidCommand("reason is required")
        if self.state == ACTIVE:
            return False
        self._state_changed(self.name, ACTIVE, "resumed", reason.strip(), actor, occurred_at,
                            source)
        return True

    class SenderStateChanged(Aggregate.Event):
        """The rules or an admin moved the sender to ``state``."""

        sender: str
        state: str
        rule: str | None
        detail: str | None
        decided_by: str
        occurred_at: datetime
        source: str

    @event(SenderStateChanged)
    def _state_changed(self, sender: str, state: str, rule: str | None, detail: str | None,
                       decided_by: str, occurred_at: datetime, source: str) -> None:
        self.state = state
