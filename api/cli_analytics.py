"""The analysts' commands: ``replay``, ``export`` and ``what-if`` (registered on ``app``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer

from api.cli import _instant, app, err, fail, needs_extra, out, services
from api.progress import progress_bar
from api.services import Services
from domain.policy import Policy
from projections.export import EVENT_TYPES, ParquetOut, Selection
from projections.export_workers import chunks
from projections.rebuild import NotRebuildable, Outcome
from projections.what_if import compare, render_chart, write_csv
from projections.workers import default_workers


@app.command()
def replay(projection: Annotated[str | None, typer.Argument(
        help="email_status, profiles, message_map, senders or sender_rejections "
             "(default: all)")] = None,
           verify: Annotated[bool, typer.Option(
               "--verify", help="compare the rebuilt view with the live one; no swap")] = False,
           restart: Annotated[bool, typer.Option(
               "--restart", help="discard an unfinished rebuild instead of resuming it")] = False,
           workers: Annotated[int | None, typer.Option(
               min=1, max=64, help="processes folding the first pass (PostgreSQL; default: "
               "one per core, at most 4; 1 = none)")] = None) -> None:
    """Rebuild projections from the first event beside the live ones, then swap them in."""
    different = False
    with services() as built:
        # Outboxes (webhooks, SES push) are not rebuilt: that would send their history again.
        names = [v.name for v in built.projector.views if getattr(v, "replayable", True)]
        if projection is not None and projection not in names:
            fail(f"unknown projection {projection!r}; choose from {', '.join(names)}", 2)
        for name in [projection] if projection else names:
            try:
                with progress_bar(err, f"rebuilding {name}") as report:
                    outcome = built.rebuild(name, verify=verify, restart=restart,
                                            progress=report,
                                            workers=workers or default_workers())
            except NotRebuildable as error:
                fail(str(error), 2)
            if not verify:
                out.print(f"{name}: rebuilt up to event {outcome.position} and swapped in")
                continue
            different = different or bool(outcome.differences)
            _print_differences(name, outcome)
    if different:
        raise typer.Exit(1)


def _print_differences(name: str, outcome: Outcome) -> None:
    if not outcome.differences:
        out.print(f"{name}: rebuilt view equals the live one at event {outcome.position}")
    for diff in outcome.differences:
        out.print(f"{name}: table {diff.table} differs at event {outcome.position}: "
                  f"{diff.only_live} row(s) only live, {diff.only_rebuilt} only rebuilt; "
                  f"e.g. {', '.join(map(str, diff.sample))}", highlight=False, soft_wrap=True)


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


def _selection(since: str | None, types: list[str] | None) -> Selection:
    after, moment = 0, None
    if since is not None and since.isdigit():
        after = int(since)
    elif since is not None:
        moment = _instant(since)
    unknown = sorted(set(types or ()) - EVENT_TYPES)
    if unknown:
        fail(f"unknown event type {unknown[0]!r}; choose from {', '.join(sorted(EVENT_TYPES))}",
             2)
    return Selection(after, moment, frozenset(types or ()))


@app.command()
def export(fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or parquet")],
           out_file: Annotated[str, typer.Option("--out", help="file to write; - is stdout "
                                                 "(jsonl only)")],
           since: Annotated[str | None, typer.Option(
               help="events after this position, or recorded at or after this ISO time")] = None,
           types: Annotated[list[str] | None, typer.Option(
               "--type", help="only this event type (repeatable)")] = None,
           workers: Annotated[int | None, typer.Option(
               min=1, max=64, help="processes decoding in parallel (PostgreSQL; default: one "
               "per core, at most 4; 1 = none)")] = None) -> None:
    """Write every event in global order, one page at a time (SPEC §4 shape)."""
    if out_file == "-" and fmt is ExportFormat.parquet:
        fail("parquet needs a file: --out FILE", 2)
    selection = _selection(since, types)
    with services() as built, progress_bar(err, "exporting") as report:
        total = built.ledger.recorder.max_notification_id() or 0
        count, last = export_events(built, fmt.value, out_file, selection,
                                    lambda done: report(done, total),
                                    workers or default_workers())
    err.print(f"exported {count} event(s) up to position {last} to {out_file}",
              highlight=False)


def export_events(built: Services, fmt: str, out_file: str, selection: Selection,
                  report: Callable[[int], None], workers: int = 1) -> tuple[int, int]:
    """Write the selected events to ``out_file``; returns (count, last position read)."""
    count, last = 0, selection.after
    report(last)
    if fmt == "parquet":
        with needs_extra("analytics", "Parquet export"):
            sink: Any = ParquetOut(out_file)
    else:
        sink = sys.stdout.buffer if out_file == "-" else open(out_file, "wb")  # noqa: SIM115
    try:
        for last, n, payload in chunks(built.event_log(), built.ledger, fmt, selection,
                                       workers):
            if payload is not None:
                sink.write_batch(payload) if fmt == "parquet" else sink.write(payload)
            count += n
            report(last)
    finally:
        if sink is sys.stdout.buffer:
            sink.flush()
        else:
            sink.close()
    return count, last


def _proposed(built: Services, soft_bounce_limit: int | None, window_days: float | None,
              grace_days: float | None, complaint_limit: int | None) -> Policy:
    current = built.ledger.policy
    try:
        return replace(
            current,
            soft_bounce_limit=soft_bounce_limit or current.soft_bounce_limit,
            soft_bounce_window=(timedelta(days=window_days) if window_days
                                else current.soft_bounce_window),
            transient_grace=(timedelta(days=grace_days) if grace_days
                             else current.transient_grace),
            complaint_limit=complaint_limit or current.complaint_limit)
    except ValueError as error:
        fail(str(error), 2)
        raise


def _policy_text(policy: Policy) -> str:
    window, grace = (d.total_seconds() / 86400 for d in (policy.soft_bounce_window,
                                                         policy.transient_grace))
    return (f"soft bounces {policy.soft_bounce_limit} in {window:g} d, grace {grace:g} d, "
            f"complaints {policy.complaint_limit}")


@app.command("what-if")
def what_if(
        soft_bounce_limit: Annotated[int | None, typer.Option(
            min=1, help="SOFT_BOUNCE_LIMIT to try")] = None,
        window_days: Annotated[float | None, typer.Option(
            "--soft-bounce-window-days", "--window-days", min=0.001,
            help="SOFT_BOUNCE_WINDOW_DAYS to try")] = None,
        grace_days: Annotated[float | None, typer.Option(
            "--transient-grace-days", "--grace-days", min=0.001,
            help="TRANSIENT_GRACE_DAYS to try")] = None,
        complaint_limit: Annotated[int | None, typer.Option(
            min=1, help="COMPLAINT_LIMIT to try")] = None,
        at: Annotated[str | None, typer.Option(help="judge as of this ISO time (default: now)")
                      ] = None,
        csv_file: Annotated[typer.FileTextWrite | None, typer.Option(
            "--csv", help="write the addresses that would change here")] = None,
        chart: Annotated[str | None, typer.Option(
            help="PNG of daily blocked counts, current vs proposed")] = None,
        classify: Annotated[bool, typer.Option(
            "--classify", help="replay every bounce under today's classifier (SPEC 3.1) and "
            "list the addresses blocked today that it would not block")] = False,
        apply: Annotated[bool, typer.Option(
            "--apply", help="with --classify: reset those addresses, with the reason, after "
            "confirmation")] = False,
        yes: Annotated[bool, typer.Option("--yes", help="do not ask before --apply")] = False,
        actor: Annotated[str | None, typer.Option(
            help="who resets, with --apply (default: the OS user)")] = None) -> None:
    """Replay the whole ledger under other policy settings (writes nothing) and report which
    addresses would change status. Unset options keep the current settings. With
    --classify, replay under the bounce classifier instead (--apply records resets)."""
    moment = _instant(at) if at else datetime.now(UTC)
    if apply and not classify:
        fail("--apply goes with --classify (a threshold what-if only reports)", 2)
    if classify:
        if any(v is not None for v in (soft_bounce_limit, window_days, grace_days,
                                       complaint_limit, chart)):
            fail("--classify replays under the current settings; try other thresholds in a "
                 "separate what-if", 2)
        from api.cli_reclassify import what_if_classify

        what_if_classify(moment, csv_file, apply, yes, actor)
        return
    with services() as built:
        proposed = _proposed(built, soft_bounce_limit, window_days, grace_days,
                             complaint_limit)
        with progress_bar(err, "replaying") as report:
            outcome = compare(built.ledger, built.ledger.policy, proposed, moment, report)
    out.print(f"current:  {_policy_text(built.ledger.policy)}\nproposed: "
              f"{_policy_text(proposed)}", highlight=False)
    out.print(f"{len(outcome.changes)} of {outcome.addresses} address(es) would change status "
              f"({outcome.events} events replayed)", highlight=False)
    for (before, after), count in outcome.transitions().items():
        out.print(f"  {before} -> {after}: {count}", highlight=False)
    if csv_file is not None:
        write_csv(outcome, csv_file)
    if chart is not None:
        with needs_extra("analytics", "the what-if chart"):
            render_chart(outcome, chart, f"blocked addresses per day: "
                                         f"{_policy_text(proposed)} vs "
                                         f"{_policy_text(built.ledger.policy)}")
