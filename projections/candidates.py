"""Queries that find work for jobs (the candidates are re-checked on the events)."""

from __future__ import annotations

from datetime import datetime

from adapters.sql import Database
from projections.base import iso


def soft_bounced_since_before(db: Database, cutoff: datetime, limit: int = 100_000) -> list[str]:
    """Addresses whose soft-bounce streak began before ``cutoff``."""
    with db.read() as cur:
        cur.execute("SELECT address FROM email_status WHERE status = 'soft_bounced' "
                    "AND since < ? ORDER BY since LIMIT ?", (iso(cutoff), limit))
        return [row[0] for row in cur.fetchall()]
