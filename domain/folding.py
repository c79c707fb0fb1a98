"""``policy.apply`` as a mutable fold, for folding whole histories at once (rebuilds).

``Standing`` is frozen and ``policy.apply`` builds a new one per event — right for the live
view, which folds one event into a stored standing, but ~8 µs per event when a rebuild
folds millions. ``Folding`` keeps the same facts in lists and changes them in place; the
rules are the same ones, in the same order, and ``standing()`` gives exactly the
``Standing`` that ``policy.fold`` gives for the same events (a property test holds the two
together: ``tests/domain/test_folding.py``). Events come in as their class and fields.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from domain.address import Address
from domain.policy import (
    COUNT_NAMES,
    SENDABLE,
    Mark,
    Policy,
    Standing,
    Verdict,
    soft_limit_mark,
    verdict,
)

Fields = Mapping[str, Any]
_SENT, _DELIVERED, _SOFT, _HARD, _COMPLAINTS, _BLOCKED = range(len(COUNT_NAMES))
# The events after which the verdict can differ (the others move counts or times only).
JUDGED: frozenset[type[Any]] = frozenset({
    Address.Delivered, Address.SoftBounced, Address.HardBounced, Address.Complained,
    Address.StatusReset, Address.Suppressed, Address.SoftBounceEscalated, Address.Erased})
# The events whose fold reads more than when they happened (``occurred_at``): for every
# other one, ``apply(kind, {"occurred_at": …})`` is the whole story.
READS_FIELDS: frozenset[type[Any]] = frozenset({
    Address.SoftBounced, Address.HardBounced, Address.Complained, Address.Suppressed,
    Address.SoftBounceEscalated, Address.Erased})


class Folding:
    """The facts of one address, folded in place; ``standing()`` freezes them."""

    __slots__ = ("complaints", "counts", "deliveries", "erased", "escalated", "hard",
                 "last_event_at", "policy", "reset_at", "soft", "suppressed")

    def __init__(self, policy: Policy, start: Standing | None = None) -> None:
        self.policy = policy
        self._start(start or Standing())

    def _start(self, st: Standing) -> None:
        self.counts = list(st.counts)
        self.reset_at, self.last_event_at = st.reset_at, st.last_event_at
        self.hard, self.complaints = list(st.hard), list(st.complaints)
        self.soft, self.deliveries = list(st.soft), list(st.deliveries)
        self.suppressed, self.escalated, self.erased = st.suppressed, st.escalated, st.erased

    def standing(self) -> Standing:
        return Standing(tuple(self.counts), self.reset_at, tuple(self.hard),
                        tuple(self.complaints), tuple(self.soft), tuple(self.deliveries),
                        self.suppressed, self.escalated, self.last_event_at, self.erased)

    def verdict(self) -> Verdict:
        return verdict(self.standing(), self.policy)

    def apply(self, kind: type[Any], fields: Fields) -> None:
        """Fold one event of class ``kind`` in, as ``policy.apply`` does."""
        occurred = fields.get("occurred_at")
        if occurred is not None and (self.last_event_at is None
                                     or occurred > self.last_event_at):
            self.last_event_at = occurred
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, fields)

    def _current(self, at: datetime) -> bool:
        return self.reset_at is None or at >= self.reset_at

    # -- the handlers, one per event type (see ``policy``) -----------------------------------

    def _sent(self, e: Fields) -> None:
        self.counts[_SENT] += 1

    def _blocked(self, e: Fields) -> None:
        self.counts[_BLOCKED] += 1

    def _delivered(self, e: Fields) -> None:
        self.counts[_DELIVERED] += 1
        if self._current(e["occurred_at"]):
            insort(self.deliveries, e["occurred_at"])
            self._prune()

    def _soft_bounced(self, e: Fields) -> None:
        self.counts[_SOFT] += 1
        if (self._current(e["occurred_at"])
                and e["bounce_subtype"] not in self.policy.not_mailbox_subtypes):
            insort(self.soft, Mark(e["occurred_at"], e["bounce_subtype"], e["diagnostic"]))
            self._prune()

    def _hard_bounced(self, e: Fields) -> None:
        self.counts[_HARD] += 1
        if self._current(e["occurred_at"]):
            insort(self.hard, Mark(e["occurred_at"], e["bounce_subtype"], e["diagnostic"]))

    def _complained(self, e: Fields) -> None:
        self.counts[_COMPLAINTS] += 1
        feedback = e["feedback_type"]
        if self._current(e["occurred_at"]) and feedback != "not-spam":
            insort(self.complaints, Mark(e["occurred_at"], feedback or "", feedback))

    def _reset(self, e: Fields) -> None:
        at = e["occurred_at"]
        self.reset_at = max(at, self.reset_at) if self.reset_at else at
        self.hard, self.complaints, self.soft, self.deliveries = [], [], [], []
        self.suppressed = self.escalated = self.erased = None

    def _suppressed(self, e: Fields) -> None:
        if self.suppressed is None and self._current(e["occurred_at"]):
            code = "imported_suppression" if e["source"] == "import" else "manual_suppression"
            self.suppressed = Mark(e["occurred_at"], code, e["reason"])

    def _escalated(self, e: Fields) -> None:
        if self.escalated is None and self._current(e["streak_since"]):
            self.escalated = Mark(e["occurred_at"], "transient_grace_expired", e["diagnostic"])

    def _erased(self, e: Fields) -> None:
        blocked = e["blocked"] and e["status"] not in SENDABLE
        self._start(Standing(
            erased=Mark(e["occurred_at"], e["status"], None) if blocked else None,
            last_event_at=self.last_event_at))

    def _prune(self) -> None:
        """Forget streak facts far older than the newest one (``policy._prune``)."""
        times = [m.at for m in self.soft] + self.deliveries
        horizon = max(times) - 2 * self.policy.soft_bounce_window
        if min(times) >= horizon:
            return
        self.escalated = self.escalated or soft_limit_mark(self.standing(), self.policy)
        self.soft = [m for m in self.soft if m.at >= horizon]
        self.deliveries = [d for d in self.deliveries if d >= horizon]


_HANDLERS: dict[type[Any], Callable[[Folding, Fields], None]] = {
    Address.MessageSent: Folding._sent,
    Address.SendBlocked: Folding._blocked,
    Address.Delivered: Folding._delivered,
    Address.SoftBounced: Folding._soft_bounced,
    Address.HardBounced: Folding._hard_bounced,
    Address.Complained: Folding._complained,
    Address.StatusReset: Folding._reset,
    Address.Suppressed: Folding._suppressed,
    Address.SoftBounceEscalated: Folding._escalated,
    Address.Erased: Folding._erased,
}
