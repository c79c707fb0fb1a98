"""``bounceledger ses-sync``: one pass of the SES suppression-list sync (registered on ``app``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from adapters.ses_suppression import SesSyncError
from api.application.ses_sync import SyncReport
from api.cli import app, err, fail, out, services


@app.command("ses-sync")
def ses_sync(
        only: Annotated[str | None, typer.Option(
            "--only", help="push or pull: one half of what SES_SUPPRESSION_SYNC allows")] = None,
) -> None:
    """Push pending blocks and lifts to SES's account-level suppression list, then import the
    entries SES added since the last run (BOUNCELEDGER_SES_SUPPRESSION_SYNC decides which)."""
    with services() as built:
        mode = built.settings.ses_suppression_sync
        if mode == "off":
            fail("BOUNCELEDGER_SES_SUPPRESSION_SYNC is off: set it to push, pull or both", 2)
        if only not in (None, "push", "pull") or (only and only != mode and mode != "both"):
            fail(f"--only {only} is not allowed by BOUNCELEDGER_SES_SUPPRESSION_SYNC={mode}", 2)
        sync = built.ses_sync()
        report = SyncReport()
        with Progress(console=err, transient=True) as progress:
            progress.add_task("syncing with SES", total=None)
            try:
                if only in (None, "push") and sync.push_enabled:
                    sync.push(report)
                if only in (None, "pull") and sync.pull_enabled:
                    sync.pull(report)
            except SesSyncError as error:
                fail(f"SES sync stopped (progress is saved; run it again): {error}", 1)
    busy = " (another process is pulling; skipped)" if report.pull_busy else ""
    out.print(f"pushed {report.pushed} call(s), {report.push_errors} to retry; pulled "
              f"{report.pages} page(s): imported {report.imported}, already known "
              f"{report.skipped}, bad entries {report.bad}{busy}", highlight=False)
    if report.push_errors:
        raise typer.Exit(1)
