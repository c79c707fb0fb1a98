"""The streaming export writes, byte for byte, what the export wrote before it (the golden
file of ``tests/analytics/golden.py``: every event type, erased addresses, email changes),
on SQLite and on PostgreSQL; Parquet holds the same records."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from api.cli_analytics import export_events
from api.services import Services, build_services
from projections.export import ParquetOut, Selection
from projections.export_workers import chunks
from tests.analytics.golden import ERASURE_KEY, FOLDER
from tests.analytics.test_export import read_parquet
from tests.conftest import make_settings

GOLDEN = (FOLDER / "export.jsonl").read_bytes()


def golden_rows() -> tuple[list[tuple[str, int, str, bytes]], list[tuple[str, bytes]]]:
    with sqlite3.connect(FOLDER / "ledger.db") as conn:
        events = conn.execute("SELECT originator_id, originator_version, topic, state "
                              "FROM stored_events ORDER BY rowid").fetchall()
        keys = conn.execute("SELECT address_id, data_key FROM address_keys").fetchall()
    return events, keys


def golden_services(database_url: str, tmp_path: Path) -> Services:
    """The golden ledger on this store: the SQLite file itself, or its stored rows copied
    unchanged (same positions, same sealed states, same keys) into PostgreSQL."""
    if database_url.startswith("sqlite"):
        shutil.copy(FOLDER / "ledger.db", tmp_path / "golden.db")
        return build_services(make_settings(f"sqlite:///{tmp_path / 'golden.db'}",
                                            erasure_key=ERASURE_KEY))
    services = build_services(make_settings(database_url, erasure_key=ERASURE_KEY))
    events, keys = golden_rows()
    with services.db.write() as cur:
        cur.executemany("INSERT INTO address_keys (address_id, data_key) VALUES (?, ?)", keys)
    services.ledger.recorder.insert_events(
        [StoredEvent(UUID(hex=o), v, t, s) for o, v, t, s in events])
    services.projector.catch_up()
    return services


@pytest.fixture
def golden(database_url: str, tmp_path: Path) -> Services:
    services = golden_services(database_url, tmp_path)
    yield services  # type: ignore[misc]
    services.close()


def test_jsonl_export_is_byte_identical_to_the_golden_file(golden: Services,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    count, last = export_events(golden, "jsonl", str(out), Selection(), lambda done: None)
    assert out.read_bytes() == GOLDEN
    assert count == last == GOLDEN.count(b"\n")


def test_the_golden_ledger_has_every_event_type_erased_and_email_changes() -> None:
    records = [json.loads(line) for line in GOLDEN.splitlines()]
    kinds = {r["type"] for r in records}
    assert kinds >= {"Registered", "MessageSent", "SendBlocked", "Delivered", "SoftBounced",
                     "HardBounced", "Complained", "DeliveryDelayed", "Rejected",
                     "EmailChangedTo", "EmailChangedFrom", "StatusReset", "Suppressed",
                     "SoftBounceEscalated", "Erased", "RegisteredAgain", "SenderRegistered",
                     "SenderStateChanged"}
    assert any(r["data"] == {"redacted": True} for r in records)
    assert any(r["data"].get("old_address") == "[erased]" for r in records)


def test_parquet_export_holds_the_golden_records(golden: Services, tmp_path: Path) -> None:
    out = tmp_path / "events.parquet"
    export_events(golden, "parquet", str(out), Selection(), lambda done: None)
    assert read_parquet(out) == [json.loads(line) for line in GOLDEN.splitlines()]


def test_a_selection_of_the_golden_ledger_is_its_lines(golden: Services, tmp_path: Path) -> None:
    out = tmp_path / "some.jsonl"
    wanted = {"HardBounced", "Erased", "EmailChangedFrom"}
    export_events(golden, "jsonl", str(out), Selection(after=10, types=frozenset(wanted)),
                  lambda done: None)
    expected = [line for line in GOLDEN.splitlines(keepends=True)
                if json.loads(line)["type"] in wanted and json.loads(line)["position"] > 10]
    assert out.read_bytes() == b"".join(expected) and len(expected) >= 4


@pytest.mark.usefixtures("small_logs_in_workers")
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_worker_processes_export_the_same_bytes(golden: Services, database_url: str,
                                                tmp_path: Path, fmt: str) -> None:
    """Ranges of 4 positions in two worker processes over one shared PostgreSQL snapshot
    (SQLite: the same pages in this process) write exactly the golden export."""
    out, lasts = tmp_path / f"events.{fmt}", []
    sink = ParquetOut(str(out)) if fmt == "parquet" else None
    with open(out, "ab") as lines:
        for last, _, payload in chunks(golden.event_log(), golden.ledger, fmt, Selection(),
                                       workers=2, span=4):
            lasts.append(last)
            if sink is not None:
                sink.write_batch(payload)
            else:
                lines.write(payload)
    if sink is not None:
        sink.close()
        assert read_parquet(out) == [json.loads(line) for line in GOLDEN.splitlines()]
    else:
        assert out.read_bytes() == GOLDEN
    head = GOLDEN.count(b"\n")
    ranges = [min(end, head) for end in range(4, head + 4, 4)]
    assert lasts == (ranges if database_url.startswith("postgresql") else [head])


@pytest.mark.usefixtures("small_logs_in_workers")
def test_worker_processes_keep_the_selection(golden: Services, database_url: str) -> None:
    wanted = {"HardBounced", "Erased", "EmailChangedFrom", "Registered"}
    selection = Selection(after=10, types=frozenset(wanted))
    written = b"".join(payload for _, n, payload in chunks(
        golden.event_log(), golden.ledger, "jsonl", selection, workers=2, span=3) if n)
    expected = [line for line in GOLDEN.splitlines(keepends=True)
                if json.loads(line)["type"] in wanted and json.loads(line)["position"] > 10]
    assert written == b"".join(expected) and len(expected) >= 4


def test_a_small_log_is_exported_in_this_process(golden: Services) -> None:
    """Fewer events than ``PARALLEL_FROM``: no worker is started, one page holds them all."""
    lasts = [last for last, _, _ in chunks(golden.event_log(), golden.ledger, "jsonl",
                                           workers=2, span=4)]
    assert lasts == [GOLDEN.count(b"\n")]
