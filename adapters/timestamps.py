"""Times as the stores keep them: UTC ISO text with a ``Z``, sortable as text.

One format in SQLite and PostgreSQL, so range queries and ``ORDER BY`` on a TEXT column work
the same in both. Here, beside the stores, because adapters write it and must not import
``projections`` (which re-exports these for its views).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ZERO = timedelta(0)


def iso(value: datetime | None) -> str | None:
    """UTC timestamps as sortable ISO text with a ``Z``, the same in SQLite and PostgreSQL."""
    if value is None:
        return None
    if value.utcoffset() != _ZERO:
        value = value.astimezone(UTC)
    # isoformat is ~1.5x faster than strftime, and this runs twice per exported event.
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
