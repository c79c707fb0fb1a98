"""import-suppressions: CSV and SES JSON, bad lines reported, reruns import nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.services import build_services
from tests.conftest import make_settings

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"sqlite:///{tmp_path / 'import.db'}"
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", value)
    return value


def status(url: str, address: str) -> dict:
    services = build_services(make_settings(url))
    try:
        return services.reader.status(address)
    finally:
        services.close()


def test_csv_with_a_bad_line_imports_the_rest_and_reruns_idempotently(url: str,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("address,reason\nA@Example.com,legal\nnot-an-address\nb@example.com\n")
    first = runner.invoke(app, ["import-suppressions", str(path)])
    assert first.exit_code == 0
    assert "imported 2, already imported 0, bad lines 1" in first.stdout
    assert "line 3: not an email address: 'not-an-address' (skipped)" in first.stderr
    assert (status(url, "a@example.com")["status"], status(url, "a@example.com")["reason"]) == (
        "suppressed", "imported_suppression")
    assert status(url, "b@example.com")["diagnostic"] == "imported"
    again = runner.invoke(app, ["import-suppressions", str(path)])
    assert "imported 0, already imported 2, bad lines 1" in again.stdout


def test_ses_list_suppressed_destinations_json(url: str, tmp_path: Path) -> None:
    path = tmp_path / "ses.json"
    path.write_text(json.dumps({"SuppressedDestinationSummaries": [
        {"EmailAddress": "bounced@example.com", "Reason": "BOUNCE",
         "LastUpdateTime": "2026-01-01T00:00:00Z"},
        {"EmailAddress": "complained@example.com", "Reason": "COMPLAINT",
         "LastUpdateTime": "2026-01-02T00:00:00Z"},
        {"Reason": "BOUNCE"},
    ]}))
    result = runner.invoke(app, ["import-suppressions", str(path)])
    assert result.exit_code == 0 and "imported 2, already imported 0, bad lines 1" in result.stdout
    assert status(url, "complained@example.com")["diagnostic"] == "ses:COMPLAINT"


def test_unreadable_json_exits_2(url: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"SuppressedDestinationSummaries": [')
    result = runner.invoke(app, ["import-suppressions", str(path)])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_missing_file_exits_non_zero(url: str) -> None:
    result = runner.invoke(app, ["import-suppressions", "/nonexistent/file.csv"])
    assert result.exit_code == 2
