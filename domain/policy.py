"""The status rules of SPEC §3 as a pure fold over an address's events.

``Standing`` keeps the facts the rules need *since the last reset*, as sets ordered by when
they happened (SES time), not by when they arrived: SNS delivers late and out of order, and
the verdict must not depend on arrival order. ``verdict`` applies the thresholds of a
``Policy``; nothing here reads the clock or the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

OK, SOFT_BOUNCED, BOUNCED, COMPLAINED, SUPPRESSED = (
    "ok", "soft_bounced", "bounced", "complained", "suppressed",
)
STATUSES = (OK, SOFT_BOUNCED, BOUNCED, COMPLAINED, SUPPRESSED)
SENDABLE = frozenset({OK, SOFT_BOUNCED})
COUNT_NAMES = ("sent", "delivered", "soft_bounces", "hard_bounces", "complaints", "blocked")


@dataclass(frozen=True)
class Policy:
    """Thresholds of SPEC §3; every number is a setting."""

    soft_bounce_limit: int = 3
    soft_bounce_window: timedelta = timedelta(days=14)
    transient_grace: timedelta = timedelta(days=14)
    complaint_limit: int = 1
    not_mailbox_subtypes: frozenset[str] = frozenset(
        {"ContentRejected", "AttachmentRejected", "MessageTooLarge"}
    )
    ses_suppression_subtypes: frozenset[str] = frozenset(
        {"OnAccountSuppressionList", "Suppressed"}
    )

    def __post_init__(self) -> None:
        if self.soft_bounce_limit < 1 or self.complaint_limit < 1:
            raise ValueError("limits must be at least 1")
        if self.soft_bounce_window <= timedelta(0) or self.transient_grace <= timedelta(0):
            raise ValueError("windows must be positive")


@dataclass(frozen=True, order=True)
class Mark:
    """One fact that counts towards a status: when it happened and what it said."""

    at: datetime
    code: str = ""
    detail: str | None = None


class Known(NamedTuple):
    """What a check needs of a known address (a status row or a mirror entry)."""

    status: str
    sendable: bool
    reason: str | None


@dataclass(frozen=True)
class Verdict:
    """The status the rules give, with the rule (``reason``) and the fact behind it."""

    status: str
    reason: str | None = None
    diagnostic: str | None = None
    since: datetime | None = None

    @property
    def sendable(self) -> bool:
        return self.status in SENDABLE


@dataclass(frozen=True)
class Standing:
    """What the rules need to know about one address; fold events in with ``apply``."""

    counts: tuple[int, ...] = (0,) * len(COUNT_NAMES)
    reset_at: datetime | None = None
    hard: tuple[Mark, ...] = ()
    complaints: tuple[Mark, ...] = ()
    soft: tuple[Mark, ...] = ()
    deliveries: tuple[datetime, ...] = ()
    suppressed: Mark | None = None
    escalated: Mark | None = None
    last_event_at: datetime | None = None
    erased: Mark | None = None  # the block an erasure kept (code = the status then)

    def count(self, name: str) -> int:
        return self.counts[COUNT_NAMES.index(name)]

    def counted(self, name: str) -> Standing:
        counts = list(self.counts)
        counts[COUNT_NAMES.index(name)] += 1
        return replace(self, counts=tuple(counts))

    def counts_dict(self) -> dict[str, int]:
        return dict(zip(COUNT_NAMES, self.counts, strict=True))

    def current(self, at: datetime) -> bool:
        """A fact counts towards the status only if it happened after the last reset."""
        return self.reset_at is None or at >= self.reset_at


# -- folding events in --------------------------------------------------------------------------

Handler = Callable[[Standing, Any, Policy], Standing]


def fold(events: Iterable[Any], policy: Policy, standing: Standing | None = None) -> Standing:
    """The standing after ``events`` (in ledger order) under ``policy``."""
    result = standing or Standing()
    for domain_event in events:
        result = apply(result, domain_event, policy)
    return result


def apply(standing: Standing, domain_event: Any, policy: Policy) -> Standing:
    """Fold one event in; events that do not touch the status only move ``last_event_at``."""
    occurred = getattr(domain_event, "occurred_at", None)
    latest = standing.last_event_at
    if occurred is not None and (latest is None or occurred > latest):
        standing = replace(standing, last_event_at=occurred)
    handler = _HANDLERS.get(type(domain_event).__name__)
    return handler(standing, domain_event, policy) if handler else standing


def _sent(st: Standing, e: Any, policy: Policy) -> Standing:
    return st.counted("sent")


def _blocked(st: Standing, e: Any, policy: Policy) -> Standing:
    return st.counted("blocked")


def _delivered(st: Standing, e: Any, policy: Policy) -> Standing:
    st = st.counted("delivered")
    if not st.current(e.occurred_at):
        return st
    return _prune(replace(st, deliveries=tuple(sorted((*st.deliveries, e.occurred_at)))), policy)


def _soft_bounced(st: Standing, e: Any, policy: Policy) -> Standing:
    st = st.counted("soft_bounces")
    if not st.current(e.occurred_at) or e.bounce_subtype in policy.not_mailbox_subtypes:
        return st
    mark = Mark(e.occurred_at, e.bounce_subtype, e.diagnostic)
    return _prune(replace(st, soft=tuple(sorted((*st.soft, mark)))), policy)


def _hard_bounced(st: Standing, e: Any, policy: Policy) -> Standing:
    st = st.counted("hard_bounces")
    if not st.current(e.occurred_at):
        return st
    mark = Mark(e.occurred_at, e.bounce_subtype, e.diagnostic)
    return replace(st, hard=tuple(sorted((*st.hard, mark))))


def _complained(st: Standing, e: Any, policy: Policy) -> Standing:
    st = st.counted("complaints")
    if not st.current(e.occurred_at) or e.feedback_type == "not-spam":
        return st
    mark = Mark(e.occurred_at, e.feedback_type or "", e.feedback_type)
    return replace(st, complaints=tuple(sorted((*st.complaints, mark))))


def _reset(st: Standing, e: Any, policy: Policy) -> Standing:
    reset_at = max(e.occurred_at, st.reset_at) if st.reset_at else e.occurred_at
    return Standing(counts=st.counts, reset_at=reset_at, last_event_at=st.last_event_at)


def _suppressed(st: Standing, e: Any, policy: Policy) -> Standing:
    if st.suppressed is not None or not st.current(e.occurred_at):
        return st
    code = "imported_suppression" if e.source == "import" else "manual_suppression"
    return replace(st, suppressed=Mark(e.occurred_at, code, e.reason))


def _escalated(st: Standing, e: Any, policy: Policy) -> Standing:
    if st.escalated is not None or not st.current(e.streak_since):
        return st
    return replace(st, escalated=Mark(e.occurred_at, "transient_grace_expired", e.diagnostic))


def _erased(st: Standing, e: Any, policy: Policy) -> Standing:
    """Everything before an erasure is forgotten but a block: ``Redacted`` events count for
    nothing, so the status at erasure is carried forward here, reason ``erased``."""
    keep = Mark(e.occurred_at, e.status, None) if e.blocked and e.status not in SENDABLE else None
    return Standing(erased=keep, last_event_at=st.last_event_at)


_HANDLERS: dict[str, Handler] = {
    "MessageSent": _sent,
    "SendBlocked": _blocked,
    "Delivered": _delivered,
    "SoftBounced": _soft_bounced,
    "HardBounced": _hard_bounced,
    "Complained": _complained,
    "StatusReset": _reset,
    "Suppressed": _suppressed,
    "SoftBounceEscalated": _escalated,
    "Erased": _erased,
}


def _prune(st: Standing, policy: Policy) -> Standing:
    """Forget streak facts far older than the newest one, latching a limit they reached."""
    times = [m.at for m in st.soft] + list(st.deliveries)
    horizon = max(times) - 2 * policy.soft_bounce_window
    if min(times) >= horizon:
        return st
    escalated = st.escalated or soft_limit_mark(st, policy)
    return replace(
        st,
        escalated=escalated,
        soft=tuple(m for m in st.soft if m.at >= horizon),
        deliveries=tuple(d for d in st.deliveries if d >= horizon),
    )


# -- the verdict --------------------------------------------------------------------------------


def soft_limit_mark(st: Standing, policy: Policy) -> Mark | None:
    """The soft bounce that completed the first run of ``soft_bounce_limit`` soft bounces
    within the window with no delivery between them, if there is one."""
    limit, marks = policy.soft_bounce_limit, st.soft
    for i in range(len(marks) - limit + 1):
        first, last = marks[i], marks[i + limit - 1]
        if last.at - first.at > policy.soft_bounce_window:
            continue
        if not any(first.at < d < last.at for d in st.deliveries):
            return Mark(last.at, "soft_bounce_limit", last.detail)
    return None


def verdict(st: Standing, policy: Policy) -> Verdict:
    """The status of SPEC §3, strongest block first: suppressed, complained, bounced."""
    if st.suppressed is not None:
        return Verdict(SUPPRESSED, st.suppressed.code, st.suppressed.detail, st.suppressed.at)
    if st.erased is not None and st.erased.code in (SUPPRESSED, COMPLAINED):
        return Verdict(st.erased.code, "erased", None, st.erased.at)
    if len(st.complaints) >= policy.complaint_limit:
        mark = st.complaints[policy.complaint_limit - 1]
        return Verdict(COMPLAINED, "complaint", mark.detail, mark.at)
    bounced = _bounced(st, policy)
    if bounced is not None:
        return bounced
    if st.erased is not None:
        return Verdict(st.erased.code, "erased", None, st.erased.at)
    latest_delivery = st.deliveries[-1] if st.deliveries else None
    streak = [m for m in st.soft if latest_delivery is None or m.at > latest_delivery]
    if streak:
        return Verdict(SOFT_BOUNCED, "soft_bounce", streak[-1].detail, streak[0].at)
    return Verdict(OK, None, None, st.reset_at)


def _bounced(st: Standing, policy: Policy) -> Verdict | None:
    candidates = []
    if st.hard:
        first = st.hard[0]
        suppression = first.code in policy.ses_suppression_subtypes
        reason = "ses_suppression_list" if suppression else "hard_bounce"
        candidates.append(Verdict(BOUNCED, reason, first.detail, first.at))
    for mark in (st.escalated, soft_limit_mark(st, policy)):
        if mark is not None:
            candidates.append(Verdict(BOUNCED, mark.code, mark.detail, mark.at))
    return min(candidates, key=lambda v: v.since or datetime.min) if candidates else None


def grace_expired(st: Standing, policy: Policy, now: datetime) -> Verdict | None:
    """The soft-bounced verdict whose streak began more than the grace period before ``now``
    with no delivery since, if that is where the address stands (the ``escalate`` job)."""
    current = verdict(st, policy)
    if current.status != SOFT_BOUNCED or current.since is None:
        return None
    return current if now - current.since >= policy.transient_grace else None
