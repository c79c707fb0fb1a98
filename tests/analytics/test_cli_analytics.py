"""replay --verify, export and their one-line errors, through the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.services import build_services
from domain.reports import Bounce
from tests.analytics.ledgers import T0
from tests.conftest import cli_database, make_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return cli_database(tmp_path, monkeypatch, *[
        Bounce(f"b{i}@example.com", f"f{i}", "Permanent", "General", T0, "sns")
        for i in range(3)])


def test_replay_verify_exits_0_when_equal_and_1_when_different(env: str) -> None:
    same = runner.invoke(app, ["replay", "email_status", "--verify"])
    assert same.exit_code == 0, same.output
    assert "rebuilt view equals the live one at event 6" in same.stdout
    services = build_services(make_settings(env))
    with services.db.write() as cur:
        cur.execute("DELETE FROM email_status WHERE address = 'b1@example.com'")
    services.close()
    different = runner.invoke(app, ["replay", "email_status", "--verify"])
    assert different.exit_code == 1
    assert "0 row(s) only live, 1 only rebuilt" in different.stdout
    assert runner.invoke(app, ["replay", "email_status"]).exit_code == 0
    assert runner.invoke(app, ["replay", "email_status", "--verify"]).exit_code == 0


def test_export_jsonl_to_stdout_since_a_time(env: str) -> None:
    services = build_services(make_settings(env))
    cut = datetime.now(UTC)
    services.ledger.record(Bounce("late@example.com", "f9", "Permanent", "General", T0, "sns"))
    services.close()
    result = runner.invoke(app, ["export", "--format", "jsonl", "--out", "-",
                                 "--since", cut.isoformat()])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["address"], r["type"]) for r in lines] == [
        ("late@example.com", "Registered"), ("late@example.com", "HardBounced")]


def test_export_refuses_parquet_on_stdout_and_unknown_types(env: str) -> None:
    parquet = runner.invoke(app, ["export", "--format", "parquet", "--out", "-"])
    assert parquet.exit_code == 2 and "parquet needs a file" in parquet.stderr
    unknown = runner.invoke(app, ["export", "--format", "jsonl", "--out", "-", "--type", "Nope"])
    assert unknown.exit_code == 2 and "unknown event type 'Nope'" in unknown.stderr


def test_workers_are_checked_and_sqlite_exports_in_one_process(env: str) -> None:
    wrong = runner.invoke(app, ["export", "--format", "jsonl", "--out", "-", "--workers", "0"])
    assert wrong.exit_code == 2 and "--workers" in wrong.output
    one = runner.invoke(app, ["export", "--format", "jsonl", "--out", "-", "--workers", "1"])
    many = runner.invoke(app, ["export", "--format", "jsonl", "--out", "-", "--workers", "4"])
    assert one.exit_code == many.exit_code == 0, many.output
    assert one.stdout == many.stdout and one.stdout.count("\n") == 6
    replay = runner.invoke(app, ["replay", "email_status", "--workers", "4"])
    assert replay.exit_code == 0, replay.output
