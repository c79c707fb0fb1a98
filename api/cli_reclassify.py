"""``bounceledger what-if --classify [--apply]``: who is blocked for the sender's problem."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import IO

import typer
from rich.console import Console

from api.application.reclassify import lift
from api.cli import err, out, services
from api.progress import progress_bar
from api.services import Services
from domain.failure_classes import CLASS_LABELS
from projections.reclassify import Reclassifier, Unblock, new_blocks, unblocks
from projections.reclassify import write_csv as write_unblocks
from projections.what_if import compare

SHOWN = 20


def what_if_classify(moment: datetime, csv_file: IO[str] | None, apply: bool, yes: bool,
                     actor: str | None) -> None:
    """Replay under today's classifier; list (and with ``apply`` reset) the addresses it
    would not have blocked."""
    to_stdout = csv_file is not None and csv_file.name == "<stdout>"
    say = err if to_stdout else out
    with services() as built:
        reclassifier = Reclassifier()
        policy = built.ledger.policy
        with progress_bar(err, "replaying under the classifier") as report:
            outcome = compare(built.ledger, policy, policy, moment, report,
                              transform=reclassifier)
        rows = unblocks(outcome, reclassifier)
        _summarise(say, rows, outcome.addresses, outcome.events, new_blocks(outcome.changes))
        if csv_file is not None:
            write_unblocks(rows, csv_file)
        if apply and rows:
            _apply(built, rows, yes, actor or getpass.getuser(), say)


def _summarise(say: Console, rows: list[Unblock], addresses: int, events: int,
               stricter: int) -> None:
    say.print(f"{len(rows)} address(es) blocked today that the classifier would not block "
              f"({addresses} addresses, {events} events replayed)", highlight=False)
    for row in rows[:SHOWN]:
        label = CLASS_LABELS[row.because.failure_class] if row.because else "unclassified"
        say.print(f"  {row.address}  {row.current.status} ({row.current.reason}) -> "
                  f"{row.proposed.status}: {label}", highlight=False, soft_wrap=True)
    if len(rows) > SHOWN:
        say.print(f"  … and {len(rows) - SHOWN} more (--csv FILE lists them all)",
                  highlight=False)
    if stricter:
        say.print(f"{stricter} address(es) sendable today would be blocked under the "
                  "classifier (listed by nothing here; they keep their status)",
                  highlight=False)


def _apply(built: Services, rows: list[Unblock], yes: bool, actor: str, say: Console) -> None:
    if not yes and not typer.confirm(
            f"Reset {len(rows)} address(es) as {actor}, each with the reason "
            "'what-if --classify: <why>'?", err=True):
        err.print("nothing reset", highlight=False)
        raise typer.Exit(1)
    reset = skipped = 0
    with progress_bar(err, "resetting") as report:
        for done, row in enumerate(rows, start=1):
            if lift(built.ledger, row, actor=actor, now=datetime.now(UTC)):
                reset += 1
            else:
                skipped += 1
            report(done, len(rows))
    say.print(f"reset {reset} address(es)" + (
        f"; {skipped} skipped (their status changed since the replay)" if skipped else ""),
        highlight=False)

