"""Jobs run by the CLI and the worker: transient-grace escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from api.services import Services
from projections.candidates import soft_bounced_since_before


def escalate(services: Services, now: datetime,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Escalate every soft-bounce streak older than the grace period; returns how many."""
    cutoff = now - services.ledger.policy.transient_grace
    candidates = soft_bounced_since_before(services.db, cutoff)
    escalated = 0
    for done, address in enumerate(candidates, start=1):
        escalated += services.ledger.escalate(address, now=now, source="job")
        if progress is not None:
            progress(done, len(candidates))
    return escalated
