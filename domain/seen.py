"""The idempotency memory of one address: which reports it has already recorded.

SNS and SQS redeliver a message only for a bounded time: SQS keeps a message at most 14 days
from when it was first queued (a dead-letter queue keeps that original age), and SNS HTTPS
retries end within days at most (100 retries of at most an hour). A redelivery therefore comes
at most 14 days after the first delivery, which is before we first recorded it; so a report
key only needs remembering for ``WINDOW`` (15 days, a day of margin for clocks) after the
event that recorded it — its *recorded* time, our clock, not the time SES says it happened (a
caller may claim any ``sent_at``). Older keys are forgotten, so an address's state stays
bounded (by its mail rate times the window) however long its history grows. Import keys
(``import:<reason>``) are kept for good: re-running an import file months later must still
change nothing.

Keys are stamped and pruned by ``Address.Event.mutate`` with the event's own timestamp, so a
replay of the stored events (or a snapshot plus the events after it) gives the same memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.persistence import Transcoding

WINDOW = timedelta(days=15)
_PERMANENT = "import:"


class SeenReports:
    """Report keys in the order they were recorded, each with its recorded time."""

    def __init__(self, stamped: dict[str, datetime | None] | None = None,
                 permanent: list[str] | None = None) -> None:
        self._stamped: dict[str, datetime | None] = dict(stamped or {})
        self._permanent: set[str] = set(permanent or ())
        self._pending: list[str] = []

    @classmethod
    def recalled(cls, keys: Iterable[str]) -> SeenReports:
        """A memory holding ``keys`` (read from the report index), each as if just recorded."""
        seen = cls()
        for key in keys:
            if key.startswith(_PERMANENT):
                seen._permanent.add(key)
            else:
                seen._stamped[key] = None
        return seen

    def __contains__(self, key: object) -> bool:
        return key in self._stamped or key in self._permanent

    def __len__(self) -> int:
        return len(self._stamped) + len(self._permanent)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SeenReports) and self._stamped == other._stamped
                and self._permanent == other._permanent)

    def __repr__(self) -> str:
        return f"SeenReports({len(self._stamped)} stamped, {len(self._permanent)} permanent)"

    def add(self, key: str) -> None:
        """Remember a key; its time is set when the event that adds it is applied."""
        if key.startswith(_PERMANENT):
            self._permanent.add(key)
        else:
            self._stamped[key] = None
            self._pending.append(key)

    def stamp(self, recorded_at: datetime) -> None:
        """Give the keys added by the event being applied its recorded time, then forget keys
        recorded more than ``WINDOW`` before it."""
        for key in self._pending:
            self._stamped[key] = recorded_at
        self._pending.clear()
        horizon = recorded_at - WINDOW
        while self._stamped:
            first, at = next(iter(self._stamped.items()))
            if at is None or at >= horizon:  # None: recalled from the index, recent
                break
            del self._stamped[first]

    def state(self) -> dict[str, Any]:
        return {"stamped": dict(self._stamped), "permanent": sorted(self._permanent)}


class SeenReportsAsDict(Transcoding):
    """Stores ``SeenReports`` in snapshots (the library's JSON transcoder) as flat lists —
    keys, then their times as ISO text — so a snapshot with thousands of keys decodes with
    no per-key object hook."""

    type = SeenReports
    name = "seen_reports"

    def encode(self, obj: SeenReports) -> dict[str, Any]:
        stamped = obj.state()["stamped"]
        return {"keys": list(stamped),
                "at": [at.isoformat() if at else None for at in stamped.values()],
                "permanent": obj.state()["permanent"]}

    def decode(self, data: dict[str, Any]) -> SeenReports:
        parse = datetime.fromisoformat
        return SeenReports({key: parse(at) if at else None
                            for key, at in zip(data["keys"], data["at"], strict=True)},
                           data["permanent"])
