"""A PostgreSQL restart in the middle of webhook traffic loses and doubles nothing.

Our own cluster (``initdb`` in a temp dir, free port) behind a real uvicorn server; 16
clients post signed notifications and retry like SNS after a 5xx or a timeout;
``pg_ctl restart -m fast`` happens part-way. Every notification ends stored exactly once.
The time without a 2xx is measured and reported (``record_property``), not asserted.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.recovery import OwnPostgres, restart_under_load
from bench.server import running_server
from tests.conftest import ADMIN_TOKEN, REQUIRED
from tests.sns_signing import TOPIC, Signer

pytestmark = pytest.mark.postgres


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    if not shutil.which("runuser") or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        message = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    pg = OwnPostgres()
    pg.start()
    yield pg
    pg.stop()


def test_a_restart_under_load_loses_and_doubles_nothing(
        own_postgres: OwnPostgres, tmp_path: Path,
        record_property: pytest.RecordProperty) -> None:
    signer = Signer(tmp_path / "certs")
    env = {"BOUNCELEDGER_DATABASE_URL": own_postgres.url,
           "BOUNCELEDGER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
           "BOUNCELEDGER_SNS_TOPIC_ARNS": TOPIC,
           "BOUNCELEDGER_SNS_CERT_DIR": str(signer.cert_dir)}
    with running_server(env) as base:
        outcome = restart_under_load(base, signer, own_postgres, count=300)
    for name in ("restart_s", "longest_without_2xx_s", "first_2xx_after_accepting_s",
                 "posts"):
        record_property(name, outcome[name])
    print({k: v for k, v in outcome.items() if k != "addresses"})
    with psycopg.connect(own_postgres.url) as conn:
        stored = dict(conn.execute(
            "SELECT s.address, COUNT(*) FROM bounceledger_events e "
            "JOIN email_status s ON s.address_id = e.originator_id::text "
            "WHERE e.topic LIKE '%HardBounced' GROUP BY s.address").fetchall())
        counted = dict(conn.execute(
            "SELECT address, hard_bounces FROM email_status WHERE status = 'bounced'"
        ).fetchall())
    wanted = set(outcome["addresses"])
    assert set(stored) == wanted and set(stored.values()) == {1}  # none lost, none doubled
    assert {a: counted.get(a) for a in wanted} == dict.fromkeys(wanted, 1)
