"""``bounceledger demo`` runs the whole loop offline against its own moto server."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from api.cli import app


def test_the_demo_blocks_the_bounced_and_the_complained_on_the_second_send() -> None:
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    second = result.output.split("3. send again")[1]
    assert re.search(r"ann@example.org\s+sent", second)
    assert re.search(r"bob@example.org\s+blocked\s+bounced, no SES call", second)
    assert re.search(r"cat@example.org\s+blocked\s+complained, no SES call", second)
    assert "received 3 messages for the first send and 1 for the second" in result.output
