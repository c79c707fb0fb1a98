"""A small and a ten times larger ledger (SQLite files), shared by the memory tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.services import build_services
from domain.reports import Sent
from tests.analytics.ledgers import T0
from tests.conftest import make_settings


def ledger_of(folder: Path, name: str, events: int) -> str:
    url = f"sqlite:///{folder / name}"
    services = build_services(make_settings(url))
    addresses = events // 2  # Registered + MessageSent per address
    for start in range(0, addresses, 1000):
        services.ledger.record(*[Sent(f"{name}{i}@example.com", f"m{i}", T0, "api")
                                 for i in range(start, min(start + 1000, addresses))])
    services.close()
    return url


@pytest.fixture(scope="session")
def small_and_large(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("ledgers")
    return ledger_of(folder, "s", 5_000), ledger_of(folder, "l", 50_000)




@pytest.fixture
def small_logs_in_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes even for the tests' small ledgers (``projections.workers``)."""
    monkeypatch.setattr("projections.workers.PARALLEL_FROM", 0)
