"""Export and rebuild of N events on PostgreSQL against the bare read of the event table, all
over the same events in the same run. Each phase runs in its own process, so its peak RSS
is its own; ``run_sizes`` repeats everything at two ledger sizes to show memory stays flat.

The ledger is generated fast: aggregates are built in memory, their events sealed by the
service's own mapper (per-address keys, AES-GCM) and written with one binary ``COPY`` per
2,500 addresses — the same stored rows ``record()`` would write, minutes sooner at 2M.

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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from adapters.sql import DatabaseUrl
from api.cli_analytics import export_events
from api.services import Services
from bench.common import database, rate, services_on
from domain.address import Address
from domain.policy import Policy
from domain.reports import Bounce, Complaint, Delivery, Report, Sent
from projections.email_status import EmailStatusView
from projections.event_counts import EventCountsView
from projections.export import Selection
from projections.rebuild import Rebuild
from projections.workers import default_workers

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PHASES = ("raw_log_read", "export_jsonl", "export_parquet", "rebuild_email_status",
          "rebuild_event_counts", "export_jsonl_one_process", "export_parquet_one_process",
          "rebuild_email_status_one_process")


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
    """About ``events`` sealed events (4 per address), copied in 2,500 addresses at a time;
    the live views are marked as caught up (they stay empty: the phases rebuild them)."""
    with services_on(url) as services:  # every table the service creates
        ledger, keys = services.ledger, services.extras["keys"]
        table = ledger.recorder.events_table_name
        parsed = DatabaseUrl.parse(url)
        with psycopg.connect(url.split("?")[0], options=f"-c search_path={parsed.schema}",
                             autocommit=True) as conn:
            for start in range(0, events // 4, 2500):
                _copy(conn, table, ledger.mapper, keys, range(start, min(start + 2500,
                                                                         events // 4)))
            conn.execute(f"ANALYZE {table}")
            head = ledger.recorder.max_notification_id() or 0
            conn.execute("UPDATE projection_tracking SET position = %s", (head,))
        return head


def _copy(conn: psycopg.Connection[Any], table: str, mapper: Any, keys: Any,
          numbers: range) -> None:
    pending = []
    for i in numbers:
        aggregate = Address(address=_reports(i)[0].address)
        for report in _reports(i):
            aggregate.record(report)
        pending.extend(aggregate.collect_events())
    keys.ensure({e.originator_id for e in pending})
    with conn.cursor() as cur, cur.copy(
            f"COPY {table} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["uuid", "int8", "text", "bytea"])
        for event in pending:
            stored = mapper.to_stored_event(event)
            copy.write_row((stored.originator_id, stored.originator_version, stored.topic,
                            stored.state))


def _phase(url: str, name: str) -> dict[str, Any]:
    # The service's ledger: address events are sealed, so reading them decrypts (as in prod).
    with services_on(url) as services:
        ledger, db, log = services.ledger, services.db, services.event_log()
        work: dict[str, Callable[[], int]] = {
            "raw_log_read": lambda: _read_table(url, ledger.recorder.events_table_name),
            "export_jsonl": lambda: _export(services, "jsonl", default_workers()),
            "export_parquet": lambda: _export(services, "parquet", default_workers()),
            "export_jsonl_one_process": lambda: _export(services, "jsonl", 1),
            "export_parquet_one_process": lambda: _export(services, "parquet", 1),
            "rebuild_email_status": lambda: Rebuild(ledger, db, EmailStatusView(Policy()),
                                                    log=log, workers=default_workers()
                                                    ).run().position,
            "rebuild_email_status_one_process": lambda: Rebuild(
                ledger, db, EmailStatusView(Policy()), log=log).run().position,
            "rebuild_event_counts": lambda: Rebuild(ledger, db, EventCountsView(),
                                                    log=log).run().position,
        }
        baseline = _reset_peak_rss()  # the service's start-up is not the phase's memory
        before, start = _cpu(), time.perf_counter()
        count = work[name]()
        seconds, cpu = time.perf_counter() - start, _cpu() - before
        peak = _status_kib("VmHWM")
    # CPU µs per event of this process and its workers: steadier than the rate on a busy
    # machine (the database server's own work is not in it).
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"events": count, "seconds": round(seconds, 2), "events_per_s": rate(count, seconds),
            "client_cpu_us_per_event": round(cpu / max(count, 1) * 1e6, 2),
            "rss_before_mib": round(baseline / 1024, 1), "peak_rss_mib": round(peak / 1024, 1),
            "worker_peak_rss_mib": round(children.ru_maxrss / 1024, 1)}


def _status_kib(field: str) -> int:
    """A memory figure of this process from ``/proc/self/status`` (Linux), in KiB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def _reset_peak_rss() -> int:
    """Start the peak (``VmHWM``) again from the current RSS; returns that RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status_kib("VmRSS")


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the export's workers)."""
    return sum(usage.ru_utime + usage.ru_stime for usage in (
        resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


def _read_table(url: str, table: str) -> int:
    """The raw limit: every row of the event table through a binary server-side cursor,
    nothing decoded (the shape of the issue's "bare Python read")."""
    parsed, count = DatabaseUrl.parse(url), 0
    with psycopg.connect(url.split("?")[0], options=f"-c search_path={parsed.schema}"
                         ) as conn, conn.cursor(name="bare", binary=True) as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT notification_id, originator_id::text, originator_version, "
                    f"topic, state FROM {table} ORDER BY notification_id")
        while rows := cur.fetchmany(5000):
            count += len(rows)
    return count


def _export(services: Services, fmt: str, workers: int) -> int:
    """What ``bounceledger export`` does, to a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        count, _ = export_events(services, fmt, f"{folder}/events.{fmt}", Selection(),
                                 lambda _: None, workers)
    return count


def _ratios(result: dict[str, Any]) -> dict[str, float]:
    raw = result["raw_log_read"]["events_per_s"]
    return {name: round(result[name]["events_per_s"] / raw, 3) for name in PHASES[1:]}


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
        result["ratio_to_raw_read"] = _ratios(result)
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def run_sizes(sizes: Sequence[int]) -> list[dict[str, Any]]:
    """The same phases at each ledger size (peak RSS should not grow with it)."""
    return [run(size) for size in sizes]


if __name__ == "__main__":
    print(json.dumps(_phase(sys.argv[1], sys.argv[2])))
