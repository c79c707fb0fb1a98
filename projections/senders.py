"""Sender reputation views: daily and hourly volumes per sender, and each sender's state.

``SendersView.apply`` returns which senders' counts moved; the sender rules
(``application.sender_rules``, a reaction of the write pipeline) read their counts with
``volumes_in`` in the same transaction, in one statement, and record a sender's new state
there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adapters.sql import Cursor, Database
from domain.address import Address
from domain.sender import ACTIVE, Sender, Volume
from projections.base import Positioned, insert_rows, iso
from projections.sender_rejections import RejectionReader
from projections.tables import Names, TableView

COUNTED = ("sent", "delivered", "hard_bounces", "complaints", "virus_complaints")
TABLES = ("sender_daily", "sender_hourly", "sender_state")


def create_statements(n: Names) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {n('sender_daily')} (sender TEXT NOT NULL, "
        "day TEXT NOT NULL, " + ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in COUNTED)
        + ", PRIMARY KEY (sender, day))",
        f"CREATE TABLE IF NOT EXISTS {n('sender_hourly')} (sender TEXT NOT NULL, "
        "hour TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0, "
        "hard_bounces INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (sender, hour))",
        f"CREATE TABLE IF NOT EXISTS {n('sender_state')} (sender TEXT PRIMARY KEY, "
        "state TEXT NOT NULL, rule TEXT, detail TEXT, decided_by TEXT, changed_at TEXT)",
    ]


def _counts(event: Any) -> dict[str, int]:
    if isinstance(event, Address.MessageSent):
        return {"sent": 1}
    if isinstance(event, Address.Delivered):
        return {"delivered": 1}
    if isinstance(event, Address.HardBounced):
        return {"hard_bounces": 1}
    if isinstance(event, Address.Complained) and event.feedback_type != "not-spam":
        return {"complaints": 1, "virus_complaints": int(event.feedback_type == "virus")}
    return {}


class SendersView(TableView):
    name = "senders"
    tables = TABLES
    statements = staticmethod(create_statements)

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> dict[str, datetime]:
        daily: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(COUNTED, 0))
        hourly: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"sent": 0, "hard_bounces": 0})
        latest: dict[str, datetime] = {}
        for _, event in events:
            if isinstance(event, Sender.SenderStateChanged):
                self._state(cur, event)
                continue
            if isinstance(event, Address.SenderRejected) and event.sender:
                # Counted by ``SenderRejectionsView``; the rules judge this sender again.
                latest[event.sender] = max(latest.get(event.sender, event.occurred_at),
                                           event.occurred_at)
                continue
            counts = _counts(event)
            if not counts or not getattr(event, "sender", None):
                continue
            stamp = iso(event.occurred_at) or ""
            for name, value in counts.items():
                daily[(event.sender, stamp[:10])][name] += value
                if name in ("sent", "hard_bounces"):
                    hourly[(event.sender, stamp[:13])][name] += value
            latest[event.sender] = max(latest.get(event.sender, event.occurred_at),
                                       event.occurred_at)
        self._add(cur, self.names("sender_daily"), "day", daily, COUNTED)
        self._add(cur, self.names("sender_hourly"), "hour", hourly, ("sent", "hard_bounces"))
        return latest

    @staticmethod
    def _add(cur: Cursor, table: str, period: str, rows: dict[tuple[str, str], dict[str, int]],
             columns: Sequence[str]) -> None:
        if not rows:
            return
        updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
        insert_rows(cur, f"INSERT INTO {table} (sender, {period}, {', '.join(columns)})",
                    [(s, p, *(v[c] for c in columns)) for (s, p), v in sorted(rows.items())],
                    f"ON CONFLICT (sender, {period}) DO UPDATE SET {updates}",
                    ("text", "text", *("integer" for _ in columns)))

    def _state(self, cur: Cursor, event: Any) -> None:
        cur.execute(
            f"INSERT INTO {self.names('sender_state')} (sender, state, rule, detail, "
            "decided_by, changed_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sender) DO UPDATE SET "
            "state = excluded.state, rule = excluded.rule, "
            "detail = excluded.detail, decided_by = excluded.decided_by, "
            "changed_at = excluded.changed_at",
            (event.sender, event.state, event.rule, event.detail, event.decided_by,
             iso(event.occurred_at)))

    def after_commit(self, changes: dict[str, datetime]) -> None:
        pass


class SenderReader:
    """Volumes, rates and states of senders, for the rules and the API."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def volume(self, sender: str, first_day: date, last_day: date) -> Volume:
        with self.db.read() as cur:
            cur.execute(f"SELECT {', '.join(f'COALESCE(SUM({c}), 0)' for c in COUNTED)} "
                        "FROM sender_daily WHERE sender = ? AND day BETWEEN ? AND ?",
                        (sender, first_day.isoformat(), last_day.isoformat()))
            return Volume(*(int(v) for v in cur.fetchone()))

    def hour(self, sender: str, moment: datetime) -> Volume:
        with self.db.read() as cur:
            cur.execute("SELECT sent, hard_bounces FROM sender_hourly "
                        "WHERE sender = ? AND hour = ?", (sender, (iso(moment) or "")[:13]))
            row = cur.fetchone()
        return Volume(sent=int(row[0]), hard_bounces=int(row[1])) if row else Volume()

    def state(self, sender: str) -> dict[str, Any]:
        with self.db.read() as cur:
            cur.execute("SELECT state, rule, detail, decided_by, changed_at FROM sender_state "
                        "WHERE sender = ?", (sender,))
            row = cur.fetchone()
        keys = ("state", "rule", "detail", "decided_by", "changed_at")
        return dict(zip(keys, row, strict=True)) if row else {"state": ACTIVE, "rule": None,
                                                              "detail": None,
                                                              "decided_by": None,
                                                              "changed_at": None}

    def names(self) -> list[str]:
        with self.db.read() as cur:
            cur.execute("SELECT sender FROM sender_daily UNION SELECT sender FROM sender_state "
                        "UNION SELECT sender FROM sender_rejections_daily ORDER BY 1")
            return [row[0] for row in cur.fetchall()]

    def daily(self, sender: str, first_day: date) -> list[dict[str, Any]]:
        with self.db.read() as cur:
            cur.execute(f"SELECT day, {', '.join(COUNTED)} FROM sender_daily "
                        "WHERE sender = ? AND day >= ? ORDER BY day",
                        (sender, first_day.isoformat()))
            return [dict(zip(("day", *COUNTED), row, strict=True)) for row in cur.fetchall()]

    def report(self, sender: str, today: date, now: datetime | None = None) -> dict[str, Any]:
        """State, 7- and 30-day counts and rates (sender-side rejections by class beside
        the bounce and complaint rates), the last 30 days day by day, and the rejection
        warning of the 24 hours before ``now``."""
        week_start, month_start = today - timedelta(days=6), today - timedelta(days=29)
        week = self.volume(sender, week_start, today)
        month = self.volume(sender, month_start, today)
        rejections = RejectionReader(self.db)
        per_day = rejections.per_day(sender, month_start)
        return {"sender": sender, **self.state(sender),
                "last_7_days": {**_volume_dict(week), **rejections.period(
                    sender, week_start, today, week.sent)},
                "last_30_days": {**_volume_dict(month), **rejections.period(
                    sender, month_start, today, month.sent)},
                "daily": _with_rejections(self.daily(sender, month_start), per_day),
                **rejections.report(sender, today, now)}


def _with_rejections(days: list[dict[str, Any]], per_day: dict[str, int]
                     ) -> list[dict[str, Any]]:
    """Day rows with their sender-side rejections; a day with only rejections is a row too."""
    rows = {row["day"]: row for row in days}
    for day in per_day.keys() - rows.keys():
        rows[day] = {"day": day, **dict.fromkeys(COUNTED, 0)}
    return [{**rows[day], "sender_rejections": per_day.get(day, 0)} for day in sorted(rows)]


def _volume_dict(volume: Volume) -> dict[str, Any]:
    return {"sent": volume.sent, "delivered": volume.delivered,
            "hard_bounces": volume.hard_bounces, "complaints": volume.complaints,
            "bounce_rate": round(volume.bounce_rate, 6),
            "complaint_rate": round(volume.complaint_rate, 6)}


def volumes_in(cur: Cursor, moments: dict[str, datetime]
               ) -> dict[str, tuple[Volume, Volume, str]]:
    """Each sender's last 7 days, the hour of its moment and its state, in one statement
    (with the caller's cursor: the sender rules read the counts their batch just wrote)."""
    rows = []
    for sender, moment in sorted(moments.items()):
        today = moment.astimezone(UTC).date()
        rows += [sender, (today - timedelta(days=6)).isoformat(), today.isoformat(),
                 (iso(moment) or "")[:13]]
    values = ", ".join("(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))"
                       for _ in moments)
    sums = ", ".join(f"(SELECT COALESCE(SUM(d.{c}), 0) FROM sender_daily d WHERE "
                     "d.sender = v.sender AND d.day BETWEEN v.first_day AND v.last_day)"
                     for c in COUNTED)
    cur.execute(f"WITH v(sender, first_day, last_day, hour) AS (VALUES {values}) "
                f"SELECT v.sender, {sums}, COALESCE(h.sent, 0), COALESCE(h.hard_bounces, 0), "
                f"COALESCE(s.state, '{ACTIVE}') FROM v "
                "LEFT JOIN sender_hourly h ON h.sender = v.sender AND h.hour = v.hour "
                "LEFT JOIN sender_state s ON s.sender = v.sender", rows)
    found = {}
    for sender, *counts in cur.fetchall():
        week = Volume(*(int(c) for c in counts[:len(COUNTED)]))
        hour = Volume(sent=int(counts[-3]), hard_bounces=int(counts[-2]))
        found[sender] = (week, hour, counts[-1])
    return found
