"""``bounceledger demo``: the whole send → feedback → blocked loop, offline.

A local moto server stands in for SES; the feedback SES would publish is built here and fed
through the same ingest path as the SQS worker's raw delivery, so every step is the real code.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.send_validation import OutgoingMessage
from adapters.ses import ses_client
from api.services import Services, build_sending

FROM = "news@demo.example"
RECIPIENTS = ["ann@example.org", "bob@example.org", "cat@example.org"]


def start_moto() -> tuple[Any, str]:
    """A moto server on a free local port; (server, endpoint URL)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "demo")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _mail(message_id: str, address: str) -> dict[str, Any]:
    return {"timestamp": _stamp(), "messageId": message_id, "source": FROM,
            "sendingAccountId": "123456789012", "destination": [address]}


def feedback(kind: str, message_id: str, address: str) -> str:
    """The SES notification SES would publish for one recipient of one message."""
    body: dict[str, Any] = {"notificationType": kind, "mail": _mail(message_id, address)}
    if kind == "Delivery":
        body["delivery"] = {"timestamp": _stamp(), "recipients": [address],
                            "smtpResponse": "250 2.0.0 OK", "reportingMTA": "a8-1.smtp-out"}
    elif kind == "Bounce":
        body["bounce"] = {"bounceType": "Permanent", "bounceSubType": "General",
                          "bouncedRecipients": [{"emailAddress": address, "action": "failed",
                                                 "status": "5.1.1", "diagnosticCode":
                                                 "smtp; 550 5.1.1 user unknown"}],
                          "timestamp": _stamp(), "feedbackId": f"demo-bounce-{message_id}",
                          "reportingMTA": "dsn; mx.example.org"}
    else:
        body["complaint"] = {"complainedRecipients": [{"emailAddress": address}],
                             "timestamp": _stamp(), "feedbackId": f"demo-complaint-{message_id}",
                             "complaintFeedbackType": "abuse"}
    return json.dumps(body)


def run(services: Services, endpoint: str, say: Callable[[str], None]) -> dict[str, Any]:
    """Send, feed SES's answers back, send again; returns what happened (the demo's proof)."""
    ses = ses_client(services.settings.aws_region, endpoint)
    ses.create_email_identity(EmailIdentity=FROM)
    sending = build_sending(services, ses)

    def send(step: str) -> dict[str, str]:
        results = sending.send(OutgoingMessage(from_address=FROM, to=RECIPIENTS,
                                               subject="Hello", text="Hi!", sender="demo"),
                               source="cli")
        say(f"[bold]{step}[/bold]")
        for r in results:
            detail = (f"SES message {r.message_id[:12]}…" if r.message_id
                      else f"{r.status}, no SES call")
            say(f"  {r.address:<18} {r.result:<8} {detail}")
        return {r.address: r.message_id or "" for r in results if r.result == "sent"}

    def ses_count() -> int:  # moto's store is per process: count the difference
        data = httpx.get(f"{endpoint}/moto-api/data.json", timeout=5).json()
        return len(data.get("ses", {}).get("Message", []))

    start = ses_count()
    first = send("1. send to three addresses (all ok, all go to SES)")
    after_first = ses_count()
    say("[bold]2. SES reports back: ann delivered, bob hard-bounced, cat complained[/bold]")
    for kind, address in (("Delivery", RECIPIENTS[0]), ("Bounce", RECIPIENTS[1]),
                          ("Complaint", RECIPIENTS[2])):
        services.ingest.handle_ses(feedback(kind, first[address], address), source="sqs")
    for row in services.statuses.check(RECIPIENTS):
        say(f"  {row['address']:<18} {row['status']}")
    second = send("3. send again: only ann goes out")
    calls = (after_first - start, ses_count() - after_first)
    say(f"SES (moto) received {calls[0]} messages for the first send and {calls[1]} for the "
        f"second; the ledger kept {len(RECIPIENTS) - len(second)} from going out.")
    return {"first": first, "second": second, "ses_calls": calls}
