"""Rebuild of ``email_status`` and JSONL export of N events on PostgreSQL, beside a trivial
projection (count per type) and a bare read of the log, all over the same events in the same
run. Each phase runs in its own process so its peak RSS is its own.

``python -m bench.analytics URL PHASE`` runs one phase and prints JSON (used internally).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.sql import Cursor, DatabaseUrl, open_database
from api.services import build_ledger
from api.settings import Settings
from bench.common import database, rate, services_on
from domain.ledger import Ledger
from domain.policy import Policy
from domain.reports import Bounce, Complaint, Delivery, Report, Sent
from projections.base import Positioned
from projections.email_status import EmailStatusView
from projections.export import Selection, pages, write_jsonl
from projections.rebuild import Rebuild

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _reports(i: int) -> list[Report]:
    """About four events per address: Registered, two sends, and a delivery or a bounce."""
    address, at = f"user{i}@d{i % 500}.example.com", T0 + timedelta(seconds=i)
    reports: list[Report] = [Sent(address, f"m{i}a", at, "bench", sender=f"s{i % 7}"),
                             Sent(address, f"m{i}b", at + timedelta(hours=1), "bench")]
    kind = i % 20
    if kind < 15:
        reports.append(Delivery(address, f"m{i}a", at + timedelta(minutes=1), "bench"))
    elif kind < 18:
        reports.append(Bounce(address, f"f{i}", "Transient", "General", at, "bench",
                              diagnostic="452 4.2.2 mailbox full"))
    elif kind < 19:
        reports.append(Bounce(address, f"f{i}", "Permanent", "General", at, "bench",
                              diagnostic="550 5.1.1 user unknown"))
    else:
        reports.append(Complaint(address, f"c{i}", at, "bench", feedback_type="abuse"))
    return reports


def seed(url: str, events: int) -> int:
    """Record about ``events`` events, 250 addresses per transaction."""
    with services_on(url) as services:
        for start in range(0, events // 4, 250):
            batch = [r for i in range(start, min(start + 250, events // 4)) for r in _reports(i)]
            services.ledger.record(*batch)
        return services.ledger.recorder.max_notification_id() or 0


class TypeCounts:
    """The trivial projection: how many events of each type."""

    name = "bench_type_counts"

    def create(self, cur: Cursor) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_type_counts (type TEXT PRIMARY KEY, "
                    "n BIGINT NOT NULL)")

    def clear(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM bench_type_counts")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> None:
        for kind, n in sorted(Counter(type(e).__name__ for _, e in events).items()):
            cur.execute("INSERT INTO bench_type_counts VALUES (?, ?) ON CONFLICT (type) "
                        "DO UPDATE SET n = bench_type_counts.n + excluded.n", (kind, n))

    def after_commit(self, changes: Any) -> None:
        pass


def _phase(url: str, name: str) -> dict[str, Any]:
    parsed = DatabaseUrl.parse(url)
    # The service's ledger: address events are sealed, so reading them decrypts (as in prod).
    ledger, keys = build_ledger(Settings(database_url=url), parsed)  # type: ignore[call-arg]
    db = open_database(parsed)
    work: dict[str, Callable[[], int]] = {
        "raw_log_read": lambda: _read_log(ledger),
        "rebuild_type_counts": lambda: Rebuild(ledger, db, TypeCounts()).run().position,
        "rebuild_email_status": lambda: Rebuild(ledger, db,
                                                EmailStatusView(Policy())).run().position,
        "export_jsonl": lambda: _export(ledger, db),
    }
    start = time.perf_counter()
    count = work[name]()
    seconds = time.perf_counter() - start
    ledger.close()
    db.close()
    keys.db.close()
    return {"events": count, "seconds": round(seconds, 2), "events_per_s": rate(count, seconds),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _read_log(ledger: Ledger) -> int:
    """The raw limit: page through the notification log without decoding anything."""
    position = count = 0
    while page := ledger.recorder.select_notifications(start=position + 1, limit=5000):
        position, count = page[-1].id, count + len(page)
    return count


def _export(ledger: Ledger, db: Any) -> int:
    count = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        for _, records in pages(ledger, db, Selection()):
            write_jsonl(records, out)
            count += len(records)
    return count


PHASES = ("raw_log_read", "rebuild_type_counts", "rebuild_email_status", "export_jsonl")


def run(events: int) -> dict[str, Any]:
    """Seed ``events`` events on PostgreSQL, then time each phase in a fresh process."""
    with database("postgresql") as url:
        start = time.perf_counter()
        seeded = seed(url, events)
        result: dict[str, Any] = {"database": "postgresql", "events": seeded,
                                  "seed_events_per_s": rate(seeded, time.perf_counter() - start)}
        for name in PHASES:
            done = subprocess.run([sys.executable, "-m", "bench.analytics", url, name],
                                  capture_output=True, text=True, check=True,
                                  env={**os.environ, "PYTHONPATH": os.getcwd()})
            result[name] = json.loads(done.stdout)
    return result


if __name__ == "__main__":
    print(json.dumps(_phase(sys.argv[1], sys.argv[2])))
