"""docker-compose.yml cannot run here (no Docker), so check what it says against the code."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings

COMPOSE = yaml.safe_load((Path(__file__).parents[1] / "docker-compose.yml").read_text())


def test_every_bounceledger_service_runs_an_existing_command_with_real_settings() -> None:
    ours = {name: s for name, s in COMPOSE["services"].items() if "build" in s}
    assert set(ours) == {"api", "worker"}
    for name, service in ours.items():
        program, *args = service["command"]
        assert program == "bounceledger"
        help_run = CliRunner().invoke(app, [args[0], "--help"])
        assert help_run.exit_code == 0, (name, help_run.output)
        for option in (a for a in args if a.startswith("--")):
            assert option in help_run.output, (name, option)
        for variable in service["environment"]:
            assert variable.startswith("BOUNCELEDGER_"), variable
            field = variable.removeprefix("BOUNCELEDGER_").lower()
            assert field in Settings.model_fields, (name, variable)
        assert set(service["depends_on"]) <= set(COMPOSE["services"])
