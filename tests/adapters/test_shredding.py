"""The sealing mapper and the key store, on a real SQLite file (no API)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, StoredEvent, UUIDAsHex
from typer.testing import CliRunner

from adapters.shredding import VERSION, ShreddingMapper, SqlKeyStore
from adapters.sql import SqliteDatabase
from api.services import Services, build_services
from domain.address import Address
from domain.redaction import Redacted
from domain.reports import Bounce
from tests.conftest import make_settings

NOW = datetime(2026, 5, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(make_settings(f"sqlite:///{tmp_path / 'keys.db'}",
                                         erasure_key="k"))
    yield built
    built.close()


def stored(services: Services, address: str) -> list[StoredEvent]:
    return list(services.ledger.recorder.select_events(Address.create_id(address)))


def test_an_address_event_is_stored_sealed(sqlite_services: Services) -> None:
    sqlite_services.ledger.record(Bounce("seal@example.org", "f1", "Permanent", "General",
                                         NOW, "sns", diagnostic="550 no-such-mailbox-Zq7"))
    for record in stored(sqlite_services, "seal@example.org"):
        # (Not "550" alone: the plain header's recorded time may contain those digits.)
        assert record.state.startswith(VERSION)
        assert b"seal@example.org" not in record.state
        assert b"no-such-mailbox-Zq7" not in record.state


def test_an_event_stored_before_sealing_still_reads(sqlite_services: Services) -> None:
    agg = Address(address="old@example.org")
    mapper: Any = sqlite_services.ledger.mapper
    event = agg.collect_events()[0]
    record = super(ShreddingMapper, mapper).to_stored_event(event)
    assert record.state.startswith(b"{")
    assert mapper.to_domain_event(record).address == "old@example.org"


def test_without_its_key_an_event_reads_as_redacted(sqlite_services: Services) -> None:
    sqlite_services.ledger.record(Bounce("gone@example.org", "f1", "Permanent", "General",
                                         NOW, "sns"))
    keys: SqlKeyStore = sqlite_services.extras["keys"]
    keys.delete(Address.create_id("gone@example.org"))
    events = sqlite_services.ledger.history("gone@example.org")
    assert all(isinstance(e, Redacted) for e in events)
    assert [(e.type_name, e.originator_version, e.occurred_at) for e in events] == [
        ("Registered", 1, None), ("HardBounced", 2, NOW)]


def test_another_process_stops_reading_an_erased_key_after_the_ttl(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "ttl.db"))
    clock = Clock()
    mine, theirs = SqlKeyStore(db), SqlKeyStore(db, ttl_s=30, clock=clock)
    mine.create_table()
    key_id = Address.create_id("ttl@example.org")
    mine.ensure([key_id])
    assert theirs.key(key_id) == mine.key(key_id) is not None
    mine.delete(key_id)
    assert mine.key(key_id) is None
    clock.now = 29.0
    assert theirs.key(key_id) is not None  # cached: documented, at most KEY_TTL_S
    clock.now = 31.0
    assert theirs.key(key_id) is None
    db.close()


def test_a_sealed_event_cannot_be_moved_to_another_aggregate(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "aad.db"))
    keys = SqlKeyStore(db)
    keys.create_table()
    transcoder = JSONTranscoder()
    transcoder.register(DatetimeAsISO())
    transcoder.register(UUIDAsHex())
    mapper = ShreddingMapper(transcoder, keys)
    event = Address(address="a@example.org").collect_events()[0]
    record = mapper.to_stored_event(event)
    other = Address.create_id("b@example.org")
    keys.ensure([other])
    moved = StoredEvent(other, 1, record.topic, record.state)
    assert isinstance(mapper.to_domain_event(moved), Redacted)
    db.close()


def test_the_event_store_connections_zero_deleted_content(sqlite_services: Services) -> None:
    pool: Any = sqlite_services.ledger.factory.datastore.pool  # type: ignore[attr-defined]
    connection = pool._create_connection()
    assert connection._sqlite_conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    connection._sqlite_conn.close()


def test_the_cli_erases_an_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", url)
    monkeypatch.setenv("BOUNCELEDGER_ERASURE_KEY", "cli-key")
    built = build_services(make_settings(url, erasure_key="cli-key"))
    built.ledger.record(Bounce("cli@example.org", "f1", "Permanent", "General", NOW, "sns"))
    built.close()
    result = CliRunner().invoke(app, ["erase", "cli@example.org", "--reason", "asked"])
    assert result.exit_code == 0, result.output
    assert "erased" in result.output and "bounced" in result.output
    history = CliRunner().invoke(app, ["history", "cli@example.org"])
    assert "cli@example.org" not in history.stdout
    assert [line for line in history.stdout.splitlines() if '"Erased"' in line]
