"""Escalation (SPEC §3): a soft-bounce streak older than ``TRANSIENT_GRACE_DAYS`` becomes
``bounced``. Run by ``bounceledger escalate`` and, periodically, by the worker.

The view finds the candidates; each is judged again on its own events by
``Ledger.escalate``, so a stale candidate changes nothing and a second run escalates none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapters.sql import Database
from domain.ledger import Ledger
from projections.candidates import soft_bounced_since_before


def escalate(ledger: Ledger, db: Database, now: datetime,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Escalate every soft-bounce streak older than the grace period; returns how many."""
    cutoff = now - ledger.policy.transient_grace
    candidates = soft_bounced_since_before(db, cutoff)
    escalated = 0
    for done, address in enumerate(candidates, start=1):
        escalated += ledger.escalate(address, now=now, source="job")
        if progress is not None:
            progress(done, len(candidates))
    return escalated
