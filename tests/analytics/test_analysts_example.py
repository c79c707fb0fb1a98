"""The worked example of docs/analysts.md runs and counts what it says."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from api.services import build_services
from domain.reports import Bounce
from projections.rebuild import Rebuild
from tests.conftest import make_settings

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "hard_bounces_by_domain.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hard_bounces_by_domain", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bounce(address: str, day: int, kind: str = "Permanent") -> Bounce:
    return Bounce(address, f"{address}-{day}", kind, "General",
                  datetime(2026, 3, day, tzinfo=UTC), "sns")


def test_the_example_counts_hard_bounces_per_domain_and_week(database_url: str,
                                                             tmp_path: Path) -> None:
    settings = make_settings(database_url)
    services = build_services(settings)
    services.ledger.record(bounce("a@gmail.com", 2), bounce("b@gmail.com", 3),
                           bounce("c@gmail.com", 10), bounce("d@corp.example", 3),
                           bounce("e@corp.example", 4, kind="Transient"))
    services.close()
    out = tmp_path / "chart.png"
    example = load_example()
    series = example.main(settings, str(out))
    assert series == {"gmail.com": [("2026-W10", 2), ("2026-W11", 1)],
                      "corp.example": [("2026-W10", 1)]}
    assert out.read_bytes()[:4] == b"\x89PNG"
    services = build_services(settings)
    try:  # an analyst's view rebuilds beside itself like the built-in ones
        rebuild = Rebuild(services.ledger, services.db, example.HardBouncesByDomainWeek())
        assert rebuild.run(verify=True).differences == []
        assert rebuild.run().swapped
        with services.db.read() as cur:
            assert example.weekly(cur) == series
    finally:
        services.close()
