"""The command line: status, history, replay, tokens; clear one-line errors, non-zero exits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.services import build_services
from domain.reports import Bounce
from tests.conftest import cli_database, make_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return cli_database(tmp_path, monkeypatch, Bounce(
        "gone@example.com", "f1", "Permanent", "General", datetime(2026, 2, 1, tzinfo=UTC),
        "sns", diagnostic="550"))


def test_status_prints_json(env: str) -> None:
    result = runner.invoke(app, ["status", "Gone@Example.com"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "bounced"


def test_status_at_a_past_time(env: str) -> None:
    result = runner.invoke(app, ["status", "gone@example.com", "--at", "2000-01-01T00:00:00Z"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "ok"


def test_history_prints_one_event_per_line(env: str) -> None:
    result = runner.invoke(app, ["history", "gone@example.com"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["type"] for e in lines] == ["Registered", "HardBounced"]


def test_replay_rebuilds_all_projections(env: str) -> None:
    result = runner.invoke(app, ["replay"])
    assert result.exit_code == 0
    assert "email_status: rebuilt up to event 2" in result.stdout


def test_replay_refuses_an_unknown_projection(env: str) -> None:
    result = runner.invoke(app, ["replay", "nope"])
    assert result.exit_code == 2
    assert "unknown projection 'nope'" in result.stderr


def test_invalid_address_exits_2_with_one_line(env: str) -> None:
    result = runner.invoke(app, ["status", "nope"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: not an email address: 'nope'"


def test_tokens_create_list_revoke(env: str) -> None:
    created = runner.invoke(app, ["tokens", "create", "--role", "operator", "--name", "ops"])
    assert created.exit_code == 0 and created.stdout.strip().startswith("bl_")
    listed = runner.invoke(app, ["tokens", "list"])
    assert "ops" in listed.stdout and created.stdout.strip() not in listed.stdout
    assert runner.invoke(app, ["tokens", "revoke", "ops"]).exit_code == 0
    missing = runner.invoke(app, ["tokens", "revoke", "ops"])
    assert missing.exit_code == 2 and "no token named 'ops'" in missing.stderr


def test_bad_role_is_refused(env: str) -> None:
    result = runner.invoke(app, ["tokens", "create", "--role", "root", "--name", "x"])
    assert result.exit_code == 2 and "role must be one of" in result.stderr


def test_bad_database_url_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", "mysql://x")
    result = runner.invoke(app, ["tokens", "list"])
    assert result.exit_code == 3 and "unsupported database URL scheme" in result.stderr


def test_escalate_reports_how_many(env: str) -> None:
    services = build_services(make_settings(env))
    services.ledger.record(Bounce("slow@example.com", "s1", "Transient", "General",
                                  datetime(2026, 2, 1, tzinfo=UTC), "sns"))
    services.close()
    result = runner.invoke(app, ["escalate", "--now", "2026-03-01T00:00:00Z"])
    assert result.exit_code == 0 and "escalated 1 address(es)" in result.stdout
    again = runner.invoke(app, ["escalate", "--now", "2026-03-01T00:00:00Z"])
    assert "escalated 0 address(es)" in again.stdout
