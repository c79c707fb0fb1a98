"""Status changes found by ``email_status`` in the transaction at hand, for later views.

``email_status`` folds every address event under the policy and sees, event by event, when an
address's status changes: it records each change here (the status before and after, the
event that caused it, the row after it) and the outbox views registered after it
(``webhooks``, ``ses_push``) read them in the same transaction. So the policy stays the only
judge of a status, each change is seen exactly once and in log order — several changes to
one address inside one batch included — and detecting them costs no statement at all: the
write path's statement budget is unchanged while nobody listens.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StatusChange:
    """One address's status moved from ``before`` to ``status`` at ``position``."""

    position: int
    address_id: str
    address: str
    before: str
    status: str
    reason: str | None
    diagnostic: str | None
    since: str | None
    cause: Any  # the domain event


class StatusChanges:
    """The changes of the current ``email_status.apply`` (per thread: each transaction runs
    its views on one thread)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def begin(self) -> None:
        self._local.found = []

    def add(self, change: StatusChange) -> None:
        self._found().append(change)

    def at(self, positions: Collection[int]) -> list[StatusChange]:
        """The changes caused by events at ``positions`` (a view's own batch), in log order;
        changes left from an earlier transaction never match them."""
        return [c for c in self._found() if c.position in positions]

    def _found(self) -> list[StatusChange]:
        found: list[StatusChange] | None = getattr(self._local, "found", None)
        if found is None:
            found = self._local.found = []
        return found
