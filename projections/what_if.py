"""What if the policy had been different? Replays the whole ledger under two policies at once,
in memory, writing nothing.

Both policies are judged the same way, so the comparison is fair: events are folded in log
order with ``domain.policy``; recorded ``SoftBounceEscalated`` events are left out and the
transient grace period is applied at each moment judged (the end of each day, and ``at``),
as if the ``escalate`` job ran then under that policy. Days are UTC days of the time events
were recorded (as ``status --at``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any
from uuid import UUID

from domain.address import Address
from domain.ledger import Ledger
from domain.policy import BOUNCED, SOFT_BOUNCED, Policy, Standing, Verdict, apply, verdict
from projections.base import decode

Progress = Callable[[int, int], None]
Transform = Callable[[Any], Any]
SIMULATED = (Address.SoftBounceEscalated,)


class PolicyRun:
    """One policy's replay: every address's standing and verdict, and the blocked count."""

    def __init__(self, policy: Policy, transform: Transform | None = None) -> None:
        self.policy, self.transform = policy, transform
        self.standings: dict[UUID, Standing] = {}
        self.verdicts: dict[UUID, Verdict] = {}
        self.blocked = 0
        self.soft_since: dict[UUID, datetime] = {}

    def apply(self, key: UUID, event: Any) -> None:
        if self.transform is not None and key in self.verdicts:  # never a Registered
            event = self.transform(event)
            if event is None:
                return
        standing = apply(self.standings.get(key) or Standing(), event, self.policy)
        self.standings[key] = standing
        old, new = self.verdicts.get(key), verdict(standing, self.policy)
        self.verdicts[key] = new
        self.blocked += (not new.sendable) - (old is not None and not old.sendable)
        if new.status == SOFT_BOUNCED and new.since is not None:
            self.soft_since[key] = new.since
        else:
            self.soft_since.pop(key, None)

    def blocked_at(self, moment: datetime) -> int:
        grace = self.policy.transient_grace
        return self.blocked + sum(1 for since in self.soft_since.values()
                                  if moment - since >= grace)

    def verdict_at(self, key: UUID, moment: datetime) -> Verdict:
        current = self.verdicts[key]
        if (current.status == SOFT_BOUNCED and current.since is not None
                and moment - current.since >= self.policy.transient_grace):
            return Verdict(BOUNCED, "transient_grace_expired", current.diagnostic, current.since)
        return current


@dataclass(frozen=True)
class Change:
    """One address whose status would differ."""

    address: str
    current: Verdict
    proposed: Verdict
    key: UUID | None = None


@dataclass
class Outcome:
    """The comparison at ``at``: addresses, changes, and blocked counts day by day."""

    at: datetime
    addresses: int = 0
    events: int = 0
    changes: list[Change] = field(default_factory=list)
    daily: list[tuple[date, int, int]] = field(default_factory=list)

    def transitions(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for change in self.changes:
            key = (change.current.status, change.proposed.status)
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _events(ledger: Ledger, page_size: int, progress: Progress | None
            ) -> Iterator[tuple[int, Any]]:
    position, total = 0, ledger.recorder.max_notification_id() or 0
    while notifications := ledger.recorder.select_notifications(start=position + 1,
                                                               limit=page_size):
        position = notifications[-1].id
        yield from decode(ledger, notifications)
        if progress is not None:
            progress(position, max(total, position))


def compare(ledger: Ledger, current: Policy, proposed: Policy, at: datetime,
            progress: Progress | None = None, page_size: int = 5000,
            transform: Transform | None = None) -> Outcome:
    """Replay every address event recorded up to ``at`` under both policies; the proposed
    run sees each event through ``transform`` (``None`` from it: the event is left out)."""
    runs = (PolicyRun(current), PolicyRun(proposed, transform))
    names: dict[UUID, str] = {}
    outcome, day = Outcome(at), None
    for _, event in _events(ledger, page_size, progress):
        if not isinstance(event, Address.Event) or event.timestamp > at:
            continue
        today = event.timestamp.astimezone(UTC).date()
        while day is not None and day < today:
            outcome.daily.append(_point(runs, day, _day_end(day)))
            day += timedelta(days=1)
        day = today if day is None else max(day, today)
        outcome.events += 1
        if isinstance(event, Address.Registered | Address.RegisteredAgain):
            names[event.originator_id] = event.address
        if isinstance(event, SIMULATED):
            continue
        for run in runs:
            run.apply(event.originator_id, event)
    if day is not None:
        moment = min(at, _day_end(day))
        outcome.daily.append(_point(runs, day, moment))
    outcome.addresses = len(runs[0].verdicts)
    outcome.changes = _changes(runs, names, at)
    return outcome


def _point(runs: tuple[PolicyRun, PolicyRun], day: date, moment: datetime
           ) -> tuple[date, int, int]:
    return day, runs[0].blocked_at(moment), runs[1].blocked_at(moment)


def _changes(runs: tuple[PolicyRun, PolicyRun], names: dict[UUID, str],
             at: datetime) -> list[Change]:
    found = []
    for key in runs[0].verdicts:
        now, then = runs[0].verdict_at(key, at), runs[1].verdict_at(key, at)
        if now.status != then.status:
            found.append(Change(names.get(key, str(key)), now, then, key))
    return sorted(found, key=lambda c: c.address)


def write_csv(outcome: Outcome, out: IO[str]) -> None:
    """One row per address whose status would change."""
    writer = csv.writer(out)
    writer.writerow(["address", "current_status", "current_reason", "proposed_status",
                     "proposed_reason", "proposed_since"])
    for c in outcome.changes:
        since = c.proposed.since.isoformat() if c.proposed.since else ""
        writer.writerow([c.address, c.current.status, c.current.reason or "",
                         c.proposed.status, c.proposed.reason or "", since])


def render_chart(outcome: Outcome, path: str, title: str) -> None:
    """Daily blocked addresses under the current and the proposed policy, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days: Any = [d for d, _, _ in outcome.daily]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.step(days, [c for _, c, _ in outcome.daily], where="post", label="current policy")
    ax.step(days, [p for _, _, p in outcome.daily], where="post", label="proposed policy",
            linestyle="--")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("blocked addresses (end of day)")
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
