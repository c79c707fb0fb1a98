"""``sender_rejections``: sender-side rejections (SPEC §3.1) charged to the sender that sent.

Counts by sender, class and UTC day (the 7- and 30-day figures beside the bounce and
complaint rates) and by hour (the 24-hour window of the spike warning), and the latest
diagnostic of each class — with e-mail addresses taken out, because this row outlives an
erasure of the recipient it came from (``without_addresses``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from adapters.sql import Cursor, Database
from domain.address import Address
from domain.failure_classes import CLASS_LABELS, SENDER_SIDE, describe, without_addresses
from domain.rejection_alerts import (
    SENDER_CLASSES,
    LatestRejection,
    RejectionAlert,
    RejectionPolicy,
    Rejections,
    rejection_alert,
)
from projections.base import Positioned, insert_rows, iso, parse_iso
from projections.tables import Names, TableView

TABLES = ("sender_rejections_daily", "sender_rejections_hourly", "sender_rejection_latest")
Counts = dict[tuple[str, str, str], int]


def create_statements(n: Names) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {n('sender_rejections_daily')} (sender TEXT NOT NULL, "
        "day TEXT NOT NULL, failure_class TEXT NOT NULL, rejections INTEGER NOT NULL "
        "DEFAULT 0, PRIMARY KEY (sender, day, failure_class))",
        f"CREATE TABLE IF NOT EXISTS {n('sender_rejections_hourly')} (sender TEXT NOT NULL, "
        "hour TEXT NOT NULL, failure_class TEXT NOT NULL, rejections INTEGER NOT NULL "
        "DEFAULT 0, PRIMARY KEY (sender, hour, failure_class))",
        f"CREATE TABLE IF NOT EXISTS {n('sender_rejection_latest')} (sender TEXT NOT NULL, "
        "failure_class TEXT NOT NULL, rule TEXT, status_code TEXT, diagnostic TEXT, "
        "occurred_at TEXT NOT NULL, PRIMARY KEY (sender, failure_class))",
    ]


class SenderRejectionsView(TableView):
    """Counts every ``SenderRejected`` that names a sender; keeps each class's latest."""

    name = "sender_rejections"
    tables = TABLES
    statements = staticmethod(create_statements)

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> set[str]:
        """Count the batch's sender-side rejections; returns the senders charged."""
        daily: Counts = defaultdict(int)
        hourly: Counts = defaultdict(int)
        latest: dict[tuple[str, str], Any] = {}
        for _, event in events:
            if not isinstance(event, Address.SenderRejected) or not event.sender:
                continue
            if event.failure_class not in SENDER_SIDE:
                continue
            stamp = iso(event.occurred_at) or ""
            daily[(event.sender, stamp[:10], event.failure_class)] += 1
            hourly[(event.sender, stamp[:13], event.failure_class)] += 1
            key = (event.sender, event.failure_class)
            if key not in latest or event.occurred_at >= latest[key].occurred_at:
                latest[key] = event
        self._add(cur, self.names("sender_rejections_daily"), "day", daily)
        self._add(cur, self.names("sender_rejections_hourly"), "hour", hourly)
        latest_table = self.names("sender_rejection_latest")
        insert_rows(
            cur, f"INSERT INTO {latest_table} (sender, failure_class, rule, "
            "status_code, diagnostic, occurred_at)",
            [(s, c, e.rule, e.status_code, without_addresses(e.diagnostic), iso(e.occurred_at))
             for (s, c), e in sorted(latest.items())],
            "ON CONFLICT (sender, failure_class) DO UPDATE SET rule = excluded.rule, "
            "status_code = excluded.status_code, diagnostic = excluded.diagnostic, "
            "occurred_at = excluded.occurred_at "
            f"WHERE excluded.occurred_at >= {latest_table}.occurred_at",
            ("text",) * 6)
        return {sender for sender, _, _ in daily}

    @staticmethod
    def _add(cur: Cursor, table: str, period: str, rows: Counts) -> None:
        insert_rows(cur, f"INSERT INTO {table} (sender, {period}, failure_class, rejections)",
                    [(*key, count) for key, count in sorted(rows.items())],
                    f"ON CONFLICT (sender, {period}, failure_class) DO UPDATE SET "
                    f"rejections = {table}.rejections + excluded.rejections",
                    ("text", "text", "text", "integer"))

    def after_commit(self, changes: Any) -> None:
        """Nothing: the sender rules hear of these senders through ``SendersView``."""


class RejectionReader:
    """A sender's rejections by class over days or a window, and the spike warning."""

    def __init__(self, db: Database, policy: RejectionPolicy | None = None) -> None:
        self.db, self.policy = db, policy or RejectionPolicy()

    def by_class(self, sender: str, first_day: date, last_day: date) -> dict[str, int]:
        with self.db.read() as cur:
            cur.execute("SELECT failure_class, SUM(rejections) FROM sender_rejections_daily "
                        "WHERE sender = ? AND day BETWEEN ? AND ? GROUP BY failure_class",
                        (sender, first_day.isoformat(), last_day.isoformat()))
            return _classes(cur.fetchall())

    def per_day(self, sender: str, first_day: date) -> dict[str, int]:
        with self.db.read() as cur:
            cur.execute("SELECT day, SUM(rejections) FROM sender_rejections_daily "
                        "WHERE sender = ? AND day >= ? GROUP BY day",
                        (sender, first_day.isoformat()))
            return {day: int(total) for day, total in cur.fetchall()}

    def window(self, sender: str, until: datetime) -> Rejections:
        """Rejections and sends in the hours of the window that ends with ``until``'s hour."""
        with self.db.read() as cur:
            return rejections_in(cur, sender, until, self.policy.window)

    def report(self, sender: str, today: date, now: datetime | None = None) -> dict[str, Any]:
        """The rejection part of a sender's report (``SenderReader.report``)."""
        now = now or datetime.combine(today, time(23, 59, 59), UTC)
        window = self.window(sender, now)
        alert = rejection_alert(window, self.policy)
        return {
            "last_24_hours": {"sent": window.sent, "by_class": _full(window.by_class),
                              "total": window.total, "rate": round(window.share, 6)},
            "latest_rejections": [_latest_dict(window.latest[c]) for c in SENDER_CLASSES
                                  if c in window.latest],
            "rejection_alert": _alert_dict(alert) if alert else None,
        }

    def period(self, sender: str, first_day: date, last_day: date, sent: int
               ) -> dict[str, Any]:
        """Rejections by class over days, and their rate against the sends of those days."""
        by_class = self.by_class(sender, first_day, last_day)
        total = sum(by_class.values())
        return {"sender_rejections": _full(by_class), "sender_rejections_total": total,
                "sender_rejection_rate": round(total / sent, 6) if sent else 0.0}


def rejections_in(cur: Cursor, sender: str, until: datetime, window: timedelta) -> Rejections:
    """One sender's rejections by class and sends in the hours ``(until - window, until]``,
    and its latest rejection of each class — read with ``cur`` (the sender rules read inside
    the write transaction, where this batch's rows are visible)."""
    first, last = ((iso(t) or "")[:13] for t in (until - window, until))
    cur.execute("SELECT failure_class, SUM(rejections) FROM sender_rejections_hourly "
                "WHERE sender = ? AND hour > ? AND hour <= ? GROUP BY failure_class",
                (sender, first, last))
    by_class = _classes(cur.fetchall())
    cur.execute("SELECT COALESCE(SUM(sent), 0) FROM sender_hourly "
                "WHERE sender = ? AND hour > ? AND hour <= ?", (sender, first, last))
    sent = int(cur.fetchone()[0])
    cur.execute("SELECT failure_class, rule, status_code, diagnostic, occurred_at "
                "FROM sender_rejection_latest WHERE sender = ?", (sender,))
    latest = {c: LatestRejection(c, rule, code, text, parse_iso(at))
              for c, rule, code, text, at in cur.fetchall()}
    return Rejections(by_class, sent, latest)


def _classes(rows: Sequence[tuple[Any, Any]]) -> dict[str, int]:
    return {c: int(n) for c, n in rows if c in SENDER_SIDE}


def _full(by_class: Mapping[str, int]) -> dict[str, int]:
    return {c: by_class.get(c, 0) for c in SENDER_CLASSES}


def _latest_dict(latest: LatestRejection) -> dict[str, Any]:
    return {"failure_class": latest.failure_class, "label": CLASS_LABELS[latest.failure_class],
            "rule": latest.rule, "words": describe(latest.failure_class, latest.rule),
            "status_code": latest.status_code, "diagnostic": latest.diagnostic,
            "at": iso(latest.at)}


def _alert_dict(alert: RejectionAlert) -> dict[str, Any]:
    latest = alert.latest
    return {"failure_class": alert.failure_class, "label": alert.label, "count": alert.count,
            "total": alert.total, "sent": alert.sent,
            "window_hours": alert.window.total_seconds() / 3600, "message": alert.message,
            "rule": latest.rule if latest else None,
            "words": latest.words if latest else None,
            "status_code": latest.status_code if latest else None,
            "diagnostic": latest.diagnostic if latest else None,
            "at": iso(latest.at) if latest else None}
