"""Rebuild beside the live view and swap: equal to live, resumable, readable throughout."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings

from api.services import Services, build_services
from domain.reports import Bounce
from projections.event_counts import EventCountsView
from projections.log_rows import Opener
from projections.rebuild import NotRebuildable, Rebuild
from tests.analytics.ledgers import (
    T0,
    VIEW_TABLES,
    Step,
    erasing_ledgers,
    ledgers,
    play,
    rows,
)
from tests.analytics.test_export_golden import golden_services
from tests.conftest import make_settings

slow_ok = settings(max_examples=8, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


def all_rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    return {t: rows(services, t) for tables in VIEW_TABLES.values() for t in tables}


@slow_ok
@given(ledger=ledgers)
def test_rebuilt_views_equal_the_live_ones(services: Services, ledger: list[Step]) -> None:
    play(services, ledger)
    before = all_rows(services)
    for name in VIEW_TABLES:
        assert services.rebuild(name, verify=True, batch_size=7).differences == []
        assert services.rebuild(name, batch_size=7).swapped
    assert all_rows(services) == before


def test_verify_reports_a_tampered_row_and_the_swap_repairs_it(services: Services) -> None:
    services.ledger.record(Bounce("gone@example.com", "f1", "Permanent", "General", T0, "sns"))
    with services.db.write() as cur:
        cur.execute("UPDATE email_status SET status = 'ok', sendable = ?", (True,))
    outcome = services.rebuild("email_status", verify=True)
    assert [(d.table, d.only_live, d.only_rebuilt) for d in outcome.differences] == [
        ("email_status", 1, 1)]
    assert outcome.differences[0].sample and not outcome.swapped
    services.rebuild("email_status")
    assert services.reader.status("gone@example.com")["status"] == "bounced"


def test_the_swap_keeps_the_indexes_and_can_run_again(services: Services) -> None:
    services.ledger.record(Bounce("a@example.com", "f1", "Permanent", "General", T0, "sns"))
    before = index_names(services)
    services.rebuild("email_status")
    services.rebuild("email_status")
    assert index_names(services) == before
    assert services.reader.status("a@example.com")["status"] == "bounced"


def index_names(services: Services) -> list[str]:
    with services.db.read() as cur:
        if services.db.dialect == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = 'email_status' ORDER BY 1")
        else:
            cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND tablename = 'email_status' ORDER BY 1")
        return [row[0] for row in cur.fetchall()]


class Interrupted(Exception):
    pass


def stop_after(calls: int, seen: list[int]) -> Callable[[int, int], None]:
    """A progress callback that notes each count and interrupts the rebuild at ``calls``."""
    def progress(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == calls:
            raise Interrupted
    return progress


def test_an_interrupted_rebuild_resumes_where_it_stopped(services: Services) -> None:
    services.ledger.record(*[Bounce(f"r{i}@example.com", f"f{i}", "Transient", "General", T0,
                                    "sns") for i in range(40)])
    live = rows(services, "email_status")
    seen: list[int] = []
    with pytest.raises(Interrupted):
        services.rebuild("email_status", batch_size=10, progress=stop_after(3, seen))
    resumed: list[int] = []
    services.rebuild("email_status", batch_size=10,
                     progress=lambda done, total: resumed.append(done))
    assert seen == [0, 10, 20] and resumed[0] == 20  # two batches kept, not started again
    assert rows(services, "email_status") == live


def test_reads_keep_answering_during_a_rebuild(services: Services) -> None:
    services.ledger.record(*[Bounce(f"k{i}@example.com", f"f{i}", "Permanent", "General", T0,
                                    "sns") for i in range(300)])
    answers: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            answers.append(services.reader.status("k7@example.com")["status"])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            services.rebuild("email_status", batch_size=20)
    finally:
        done.set()
        thread.join()
    assert len(answers) > 10 and set(answers) == {"bounced"}


def test_writes_during_a_rebuild_reach_the_swapped_view(services: Services) -> None:
    services.ledger.record(*[Bounce(f"w{i}@example.com", f"f{i}", "Transient", "General", T0,
                                    "sns") for i in range(200)])
    done = threading.Event()
    written: list[str] = []

    def writer() -> None:
        while not done.is_set() or not written:
            address = f"late{len(written)}@example.com"
            services.ledger.record(Bounce(address, "h", "Permanent", "General", T0, "sns"))
            written.append(address)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        services.rebuild("email_status", batch_size=20)
    finally:
        done.set()
        thread.join()
    services.projector.catch_up()
    assert services.rebuild("email_status", verify=True).differences == []
    assert {services.reader.status(a)["status"] for a in written} == {"bounced"}


@pytest.fixture
def erasing(database_url: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url, erasure_key="rebuild-erasure-key"))
    yield built
    built.close()


@slow_ok
@given(ledger=erasing_ledgers)
def test_rebuilt_views_equal_the_live_ones_after_erasures(erasing: Services,
                                                         ledger: list[Step]) -> None:
    tag = play(erasing, ledger)
    play(erasing, ledger)  # again under another tag: re-registered addresses, more keys
    # Not ``senders`` nor ``profiles``: they keep facts read from events an erasure makes
    # unreadable (a sender's volume; a profile that moved to the erased address) —
    # docs/analysts.md, "Rebuilding after an erasure".
    names = ("email_status", "message_map")
    before = {t: rows(erasing, t) for name in names for t in VIEW_TABLES[name]}
    before["erased_blocks"] = rows(erasing, "erased_blocks")
    for name in names:
        assert erasing.rebuild(name, verify=True, batch_size=5).differences == []
        assert erasing.rebuild(name, batch_size=5).swapped
    after = {t: rows(erasing, t) for t in before}
    assert after == before, tag


def test_rebuild_of_the_golden_ledger_equals_its_live_views(database_url: str,
                                                           tmp_path: Path) -> None:
    """The golden ledger: two erasures (one blocked, re-registered since), email changes
    naming an erased address, every event type; its live views were built while the erased
    events could still be read."""
    golden = golden_services(database_url, tmp_path)
    try:
        before = {t: rows(golden, t) for tables in VIEW_TABLES.values() for t in tables}
        assert ("bounced",) in {(r[2],) for r in before["email_status"]}
        for name in ("email_status", "profiles", "message_map"):
            assert golden.rebuild(name, verify=True).differences == []
            assert golden.rebuild(name, batch_size=3).swapped
        assert {t: rows(golden, t) for t in before} == before
        assert len(rows(golden, "erased_blocks")) == 1
        assert golden.reader.status("ivan@example.com")["status"] == "bounced"
    finally:
        golden.close()


def test_counts_per_type_rebuild_without_decrypting_or_decoding(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    golden = golden_services(database_url, tmp_path)
    try:
        live = golden.projector.with_views([EventCountsView()])
        live.create_tables()
        live.catch_up()
        counted = rows(golden, "event_counts")

        def refuse(*args: Any) -> None:
            raise AssertionError("a counts-per-type rebuild opened an event")

        monkeypatch.setattr(Opener, "open", refuse)
        monkeypatch.setattr(AESGCM, "decrypt", refuse)
        outcome = Rebuild(golden.ledger, golden.db, EventCountsView(), batch_size=4,
                          log=golden.event_log()).run()
        assert outcome.swapped and rows(golden, "event_counts") == counted
        assert dict((t, n) for t, n in counted)["Erased"] == 2
    finally:
        golden.close()


_REBUILD = """
import resource, sys
from api.services import build_services
from tests.conftest import make_settings
services = build_services(make_settings(sys.argv[1]))
outcome = services.rebuild("email_status")
print(outcome.position, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def rebuild_peak_rss_kib(url: str) -> tuple[int, int]:
    result = subprocess.run([sys.executable, "-c", _REBUILD, url], capture_output=True,
                            text=True, check=True, cwd=Path(__file__).parents[2])
    position, rss = result.stdout.split()
    return int(position), int(rss)


def test_memory_stays_flat_on_a_ten_times_larger_rebuild(
        small_and_large: tuple[str, str]) -> None:
    small, large = small_and_large
    small_position, small_rss = rebuild_peak_rss_kib(small)
    large_position, large_rss = rebuild_peak_rss_kib(large)
    assert (small_position, large_position) == (5_000, 50_000)
    # 45,000 more events (22,500 more addresses) held at once would take far more than this.
    assert large_rss - small_rss < 16 * 1024, (small_rss, large_rss)


class Unnamed:
    """A view that does not say which tables are its own."""

    name = "unnamed"

    def create(self, cur: Any) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS unnamed (n INTEGER)")

    def clear(self, cur: Any) -> None:
        cur.execute("DELETE FROM unnamed")

    def apply(self, cur: Any, events: Any) -> None:
        pass

    def after_commit(self, changes: Any) -> None:
        pass


def test_a_view_that_does_not_name_its_tables_is_refused_clearly(services: Services) -> None:
    with pytest.raises(NotRebuildable, match="'unnamed' does not name its tables"):
        Rebuild(services.ledger, services.db, Unnamed())


@pytest.mark.usefixtures("small_logs_in_workers")
def test_worker_processes_rebuild_the_golden_ledger_equal_to_its_live_view(
        database_url: str, tmp_path: Path) -> None:
    """Two worker processes fold ranges of addresses over one shared PostgreSQL snapshot
    (SQLite: in this process): erased addresses, email changes, every event type."""
    golden = golden_services(database_url, tmp_path)
    try:
        tables = ("email_status", "erased_blocks")
        before = {t: rows(golden, t) for t in tables}
        assert golden.rebuild("email_status", verify=True, workers=2).differences == []
        assert golden.rebuild("email_status", batch_size=3, workers=2).swapped
        assert {t: rows(golden, t) for t in tables} == before
    finally:
        golden.close()


@pytest.mark.usefixtures("small_logs_in_workers")
def test_worker_processes_load_in_ranges_and_resume_after_the_last_range_written(
        services: Services, database_url: str) -> None:
    services.ledger.record(*[Bounce(f"w{i}@example.com", f"f{i}", "Transient", "General", T0,
                                    "sns") for i in range(60)])
    live = rows(services, "email_status")
    seen: list[int] = []
    with pytest.raises(Interrupted):
        services.rebuild("email_status", batch_size=1000, workers=2, progress=stop_after(3, seen))
    resumed: list[int] = []
    services.rebuild("email_status", batch_size=1000, workers=2,
                     progress=lambda done, total: resumed.append(done))
    assert rows(services, "email_status") == live
    if database_url.startswith("postgresql"):  # 8 ranges of addresses, each its own commit
        assert 0 < seen[1] < seen[2] < 120 and resumed[0] == seen[2]
        assert len([d for d in resumed if d < 120]) >= 4
    else:  # one chunk of 1,000 events holds them all
        assert seen == [0, 120, 120] and resumed[0] == 120
