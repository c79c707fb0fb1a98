"""The ``bounceledger`` command line (Typer). Errors exit non-zero with one clear line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.addresses import normalize_address
from adapters.sql import StoreUnavailable
from api.services import Services, build_services
from api.settings import Settings
from api.tokens import TokenError
from domain.errors import LedgerError
from projections.event_json import history_dict
from projections.time_travel import parse_instant, status_at
from projections.workers import WorkerFailed

app = typer.Typer(help="bounceledger: the deliverability ledger for Amazon SES.",
                  no_args_is_help=True, add_completion=False)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
quarantine_app = typer.Typer(help="Addresses a view could not apply (they fail closed).",
                             no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")
out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def needs_extra(extra: str, what: str) -> Iterator[None]:
    """Turn a missing optional dependency into one clear line (exit 2)."""
    try:
        yield
    except ImportError as error:
        fail(f"{what} needs the '{extra}' extra ({error.name} is not installed): "
             f".venv/bin/pip install 'bounceledger[{extra}]' (make install includes it)", 2)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        fail(f"invalid setting {where}: {message}" if where else f"invalid setting: {message}",
             2)
        raise  # unreachable


@contextmanager
def services() -> Iterator[Services]:
    built = None
    try:
        built = build_services(load_settings())
        yield built
    except (LedgerError, TokenError) as error:
        fail(error.message, 2)
    except (StoreUnavailable, ValueError) as error:
        fail(str(error), 3)
    except WorkerFailed as error:
        fail(str(error), 1)
    finally:
        if built is not None:
            built.close()


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="bind address")] = None,
          port: Annotated[int | None, typer.Option(help="port")] = None) -> None:
    """Start the HTTP API (and console) on the configured database."""
    import uvicorn

    from api.app import create_app
    from api.log_redaction import log_config

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    with services() as built:
        has_tokens = built.tokens.count() > 0
    out.print(f"bounceledger on [bold]http://{host}:{port}[/bold] "
              "(API docs at /docs, console at /console), "
              f"database {settings.database_url.split('@')[-1]}")
    if not has_tokens:
        out.print("No API token exists yet. Create an admin token in another shell with:\n"
                  "  .venv/bin/bounceledger tokens create --role admin --name me\n"
                  "then send it as 'Authorization: Bearer <token>'.")
    else:
        out.print("Authenticate with 'Authorization: Bearer <token>' "
                  "(bounceledger tokens create --role R --name N).")
    # X-Forwarded-For is believed only from BOUNCELEDGER_FORWARDED_ALLOW_IPS (none by
    # default): uvicorn's own default trusts 127.0.0.1, so a local client could name any
    # address and walk around the failure throttles.
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                proxy_headers=bool(settings.forwarded_allow_ips.strip()),
                forwarded_allow_ips=settings.forwarded_allow_ips.strip() or "",
                log_config=log_config(settings.erasure_key.get_secret_value()))


def _instant(value: str) -> datetime:
    try:
        return parse_instant(value)
    except LedgerError as error:
        fail(error.message, 2)
        raise


@app.command()
def status(address: str,
           at: Annotated[str | None, typer.Option(help="ISO 8601 time: status as it was")] = None,
           ) -> None:
    """Print an address's status as JSON (at a past time with --at)."""
    with services() as built:
        normalized = normalize_address(address)
        if at is None:
            out.print_json(json.dumps(built.reader.status(normalized)))
            return
        out.print_json(json.dumps(status_at(built.ledger, normalized, _instant(at))))


@app.command()
def history(address: str) -> None:
    """Print every event of an address, oldest first, one JSON object per line."""
    with services() as built:
        normalized = normalize_address(address)
        for event in built.ledger.history(normalized):
            sys.stdout.write(json.dumps(history_dict(event, normalized)) + "\n")


@app.command()
def erase(address: str,
          reason: Annotated[str, typer.Option(help="why (recorded on the Erased event)")],
          actor: Annotated[str | None, typer.Option(help="who (default: the OS user)")] = None,
          ) -> None:
    """Erase an address's personal data (crypto-shredding); a block survives as a hash."""
    import getpass

    with services() as built:
        normalized = normalize_address(address)
        erased = built.ledger.erase(normalized, actor=actor or getpass.getuser(),
                                    reason=reason, occurred_at=datetime.now(UTC), source="cli")
        status = built.reader.status(normalized)
    out.print("erased" if erased else "already erased",
              f"(status {status['status']}, sendable {status['sendable']})")


@quarantine_app.command("list")
def quarantine_list() -> None:
    """Every quarantined address: since which position, the error, the waiting events."""
    with services() as built:
        found = built.quarantined()
    table = Table("address", "since position", "waiting", "attempts", "error")
    for row in found:
        table.add_row(row["address"] or row["originator_id"], str(row["first_position"]),
                      str(row["waiting"]), str(row["attempts"]), row["error"])
    out.print(table if found else "nothing is quarantined")


@quarantine_app.command("retry")
def quarantine_retry(address: Annotated[str | None, typer.Argument(
        help="one address (default: every quarantined one)")] = None) -> None:
    """Apply the waiting events again; exit 1 while something is still quarantined."""
    with services() as built:
        remaining = built.repair(normalize_address(address) if address else None)
    if remaining:
        fail(f"{len(remaining)} address(es) still quarantined; see 'bounceledger quarantine "
             "list'", 1)
    out.print("nothing is quarantined")


@app.command()
def escalate(now: Annotated[str | None, typer.Option(
        help="ISO 8601 time to judge the grace period at (default: now)")] = None) -> None:
    """Turn soft-bounce streaks older than TRANSIENT_GRACE_DAYS into bounced."""
    from rich.progress import Progress

    from api.application.escalation import escalate as escalate_streaks

    moment = _instant(now) if now else datetime.now(UTC)
    with services() as built, Progress(console=err, transient=True) as progress:
        task = progress.add_task("escalating", total=None)
        count = escalate_streaks(built.ledger, built.db, moment,
                                 lambda done, total: progress.update(task, completed=done,
                                                                     total=total))
    out.print(f"escalated {count} address(es)")


@app.command()
def worker(
        escalate_every: Annotated[float, typer.Option(
            help="also run the escalation job every N hours (0: never)", min=0)] = 0,
        ses_sync_every: Annotated[float, typer.Option(
            help="also run the SES suppression sync (push and pull, as "
                 "SES_SUPPRESSION_SYNC allows) every N minutes (0: never)", min=0)] = 0,
        metrics_port: Annotated[int, typer.Option(
            help="serve Prometheus metrics on this port (0: off)", min=0, max=65535)] = 0,
        wait: Annotated[int, typer.Option(help="long-poll wait in seconds", min=0,
                                          max=20)] = 20) -> None:
    """Ingest SES notifications from BOUNCELEDGER_SQS_QUEUE_URL until SIGTERM/SIGINT."""
    import logging
    import signal
    import threading

    from prometheus_client import start_http_server

    from api.log_redaction import AddressRedaction
    from api.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    redaction = AddressRedaction(load_settings().erasure_key.get_secret_value())
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("signal %d: finishing the batch in flight", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with services() as built:
        if not built.settings.sqs_queue_url:
            fail("BOUNCELEDGER_SQS_QUEUE_URL is not set", 2)
        if metrics_port:
            start_http_server(metrics_port, addr=built.settings.host)
        if ses_sync_every and built.settings.ses_suppression_sync == "off":
            fail("--ses-sync-every needs BOUNCELEDGER_SES_SUPPRESSION_SYNC (push, pull or both)",
                 2)
        run_worker(built, stop, escalate_every_s=escalate_every * 3600 or None,
                   ses_sync_every_s=ses_sync_every * 60 or None, wait_seconds=wait)


@app.command()
def demo(keep: Annotated[bool, typer.Option(
        help="use BOUNCELEDGER_DATABASE_URL instead of a throwaway SQLite file")] = False
         ) -> None:
    """Send, bounce, complain and send again against a local moto server (no AWS needed)."""
    import tempfile

    with needs_extra("demo", "the demo"):
        from api.demo import run, start_moto
        server, endpoint = start_moto()
    settings = load_settings()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = settings.database_url if keep else f"sqlite:///{tmp}/demo.db"
            built = build_services(settings.model_copy(update={
                "database_url": url, "redis_url": "" if not keep else settings.redis_url,
                "aws_endpoint_url": endpoint}))
            try:
                run(built, endpoint, lambda line: out.print(line, highlight=False))
            finally:
                built.close()
    finally:
        server.stop()


@app.command("import-suppressions")
def import_suppressions(
        file: Annotated[typer.FileText, typer.Argument(help="CSV or SES JSON file")]) -> None:
    """Suppress every address in FILE (source 'import'); bad lines are reported and skipped."""
    from rich.progress import Progress

    from adapters.suppression_files import BadLine, Entry, UnreadableFile, read_suppressions

    try:
        items = list(read_suppressions(file.read()))
    except (UnreadableFile, UnicodeDecodeError) as error:
        fail(f"cannot read {file.name}: {error}", 2)
    entries = [i for i in items if isinstance(i, Entry)]
    for bad in (i for i in items if isinstance(i, BadLine)):
        err.print(f"line {bad.line}: {bad.problem} (skipped)", highlight=False)
    imported = 0
    with services() as built, Progress(console=err, transient=True) as progress:
        task = progress.add_task("importing", total=len(entries))
        for start in range(0, len(entries), 500):
            chunk = entries[start:start + 500]
            results = built.ledger.import_suppressions(
                [(e.address, e.reason) for e in chunk], actor="import",
                occurred_at=datetime.now(UTC))
            imported += sum(results)
            progress.advance(task, len(chunk))
    skipped = len(items) - len(entries)
    out.print(f"imported {imported}, already imported {len(entries) - imported}, "
              f"bad lines {skipped}")


SenderOption = Annotated[list[str] | None, typer.Option(
    "--sender", help="a sender this sender token may send as (repeat for several)")]
DomainOption = Annotated[list[str] | None, typer.Option(
    "--from-domain", help="a domain it may send from (repeat; none given: any domain)")]


@tokens_app.command("create")
def tokens_create(role: Annotated[str, typer.Option(help="viewer, sender, operator or admin")],
                  name: Annotated[str, typer.Option(help="a unique name for the token")],
                  sender: SenderOption = None, from_domain: DomainOption = None) -> None:
    """Create a token and print it once."""
    with services() as built:
        token = built.tokens.create(name, role, senders=sender or None,
                                    from_domains=from_domain or None)
    out.print(token, highlight=False)


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens (names, roles, bound senders; secrets are never shown again)."""
    with services() as built:
        table = Table("name", "role", "created_at", "sends as", "from")
        for token in built.tokens.list():
            unbound = "any (unbound)" if token["role"] == "sender" else ""
            senders, domains = token["senders"], token["from_domains"]
            table.add_row(token["name"], token["role"], token["created_at"],
                          ", ".join(senders) if senders else unbound,
                          ", ".join(domains) if domains else ("any" if senders else unbound))
    out.print(table)


@tokens_app.command("bind")
def tokens_bind(name: str, sender: SenderOption = None, from_domain: DomainOption = None,
                any_sender: Annotated[bool, typer.Option(
                    "--any", help="unbind: the token may send as anyone")] = False) -> None:
    """Bind a sender token to the senders it may send as (and the domains it may send from)."""
    if bool(sender) == any_sender:
        fail("give --sender (one or more) or --any", 2)
    with services() as built:
        built.tokens.bind(name, None if any_sender else sender,
                          None if any_sender else from_domain or None)
    out.print(f"{name} may send as " + ("anyone" if any_sender else ", ".join(sender or [])
                                        + (f" from {', '.join(from_domain)}" if from_domain
                                           else "")))


@tokens_app.command("revoke")
def tokens_revoke(name: str) -> None:
    """Revoke a token by name (refused at once in every process; its console sessions end)."""
    with services() as built:
        built.tokens.revoke(name)
    out.print(f"revoked {name}")


@tokens_app.command("end-sessions")
def tokens_end_sessions(name: str) -> None:
    """End every console session of a token; the token stays valid."""
    with services() as built:
        ended = built.tokens.end_sessions(name)
    out.print(f"ended {ended} console session(s) of {name}")


def main() -> None:
    app()


# The analysts' commands (replay, export, what-if) register themselves on ``app``.
from api import cli_analytics, cli_sync  # noqa: E402, F401

if __name__ == "__main__":
    main()
