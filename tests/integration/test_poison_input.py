"""No input can stop the ledger (SPEC §6.9): hostile text on every path, and a view that
fails on one address.

Text no store can hold (NUL for PostgreSQL, lone surrogates for any UTF-8 store) arrives by
the SNS webhook, the SQS worker, the API, console forms and the CLI. Each path stores it
(made storable: U+FFFD), answers without a 5xx, and the views keep flowing for everyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.services import Services
from api.worker import sqs_handler
from domain.reports import Bounce
from tests.api.test_webhook import Hook, make_hook
from tests.conftest import ADMIN_TOKEN
from tests.console.conftest import csrf_of, log_in
from tests.sns_signing import ses_bounce

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
HOSTILE = ["nul\x00inside", "lone \ud800 surrogate", "escaped \udcff byte",
           "fullwidth \uff0f\uff03\uff20\uff1a", "bidi \u202egnp.exe", "\x00"]
FFFD = "\ufffd"


def clean(text: str) -> str:
    """What a hostile string is stored as."""
    return (text.replace("\x00", FFFD).replace("\ud800", FFFD).replace("\udcff", FFFD))


@pytest.fixture
def hook(database_url: str, tmp_path: Path) -> Iterator[Hook]:
    yield from make_hook(database_url, tmp_path)


def assert_still_flowing(services: Services, client: TestClient) -> None:
    """A plain hard bounce after all that is applied at once, and nothing is quarantined."""
    services.ledger.record(Bounce("after@example.com", "after-1", "Permanent", "General",
                                  services_now(), "sns"))
    status = client.get("/v1/addresses/after@example.com", headers=AUTH).json()
    assert (status["status"], status["sendable"]) == ("bounced", False)
    assert services.quarantined() == []
    assert client.get("/readyz").json()["status"] == "ready"


def services_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def history(client: TestClient, address: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/addresses/{address}/history", headers=AUTH)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def ses_event(kind: str, address: str, text: str, n: int) -> dict[str, Any]:
    """An SES notification of ``kind`` with ``text`` in every free-text field."""
    note = ses_bounce(address, feedback_id=f"fb-{kind}-{n}", message_id=f"msg-{kind}-{n}")
    note["mail"]["source"] = f"{text} <news@{'shop.example'}>"
    if kind == "bounce":
        recipient = note["bounce"]["bouncedRecipients"][0]
        recipient.update(diagnosticCode=text, status=text, action=text)
        note["bounce"]["reportingMTA"] = text
    elif kind == "complaint":
        note.pop("bounce")
        note.update(notificationType="Complaint", complaint={
            "complainedRecipients": [{"emailAddress": address}], "feedbackId": f"c-{n}",
            "complaintFeedbackType": text, "userAgent": text,
            "timestamp": note["mail"]["timestamp"]})
    elif kind == "delivery":
        note.pop("bounce")
        note.update(notificationType="Delivery", delivery={
            "recipients": [address], "smtpResponse": text, "reportingMTA": text,
            "timestamp": note["mail"]["timestamp"]})
    return note


@pytest.mark.parametrize("kind", ["bounce", "complaint", "delivery"])
def test_hostile_text_in_every_sns_field_is_stored_and_nothing_stalls(hook: Hook,
                                                                      kind: str) -> None:
    for n, text in enumerate(HOSTILE):
        address = f"{kind}{n}@example.com"
        response = hook.post(hook.signer.notification(ses_event(kind, address, text, n)))
        assert response.status_code == 200, (text, response.text)
        events = history(hook.client, address)
        data = events[-1]["data"]
        stored = [v for v in data.values() if isinstance(v, str) and clean(text) in v]
        assert stored, (text, data)
        assert all("\x00" not in json.dumps(e) for e in events)
    assert_still_flowing(hook.services, hook.client)


def test_the_sqs_path_stores_hostile_text(services: Services) -> None:
    handle = sqs_handler(services.ingest, raw_delivery=True)
    for n, text in enumerate(HOSTILE):
        outcome = handle(json.dumps(ses_event("bounce", f"sqs{n}@example.com", text, n)))
        assert outcome.outcome == "accepted", text
        diagnostic = services.reader.status(f"sqs{n}@example.com")["diagnostic"]
        assert diagnostic == clean(text)
    with TestClient(create_app(services=services)) as client:
        assert_still_flowing(services, client)


def test_the_api_stores_hostile_text_in_every_field(services: Services) -> None:
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        for n, text in enumerate(HOSTILE):
            body = {"message_id": f"api-{n}-{text}", "sender": text,
                    "recipients": [{"address": f"api{n}@example.com", "profile_id": text}]}
            recorded = client.post("/v1/messages:record", headers=JSON,
                                   content=json.dumps(body))
            assert recorded.status_code < 500, recorded.text
            for action in ("suppress", "reset"):
                answer = client.post(f"/v1/addresses/api{n}@example.com/{action}",
                                     headers=JSON, content=json.dumps({"reason": text}))
                assert answer.status_code == 200, answer.text
            reasons = [e["data"].get("reason") for e in history(client, f"api{n}@example.com")]
            assert reasons[-2:] == [clean(text), clean(text)]
        assert_still_flowing(services, client)


def test_console_forms_store_hostile_text(services: Services) -> None:
    services.ledger.record(Bounce("form@example.com", "form-1", "Permanent", "General",
                                  services_now(), "sns"))
    with TestClient(create_app(services=services), base_url="http://localhost",
                    raise_server_exceptions=False) as client:
        log_in(client, ADMIN_TOKEN)
        for raw in ("reason=nul%00inside", "reason=cesu%ED%A0%80bytes",
                    "reason=bad%FFutf8"):
            token = csrf_of(client.get("/console/addresses/form@example.com").text)
            response = client.post(
                "/console/addresses/form@example.com/suppress",
                content=f"{raw}&csrf_token={token}".encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False)
            assert response.status_code == 303, response.text
        reasons = [e["data"]["reason"] for e in history(client, "form@example.com")
                   if e["type"] == "Suppressed"]
        assert len(reasons) == 3 and all("\x00" not in r for r in reasons)
        assert_still_flowing(services, client)


def test_the_cli_stores_hostile_text(services: Services, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("BOUNCELEDGER_ERASURE_KEY", "k" * 32)
    listing = tmp_path / "suppressions.csv"
    listing.write_text("address,reason\ncli1@example.com,\"imported nul \x00 here\"\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["import-suppressions", str(listing)])
    assert result.exit_code == 0, result.output
    services.ledger.record(Bounce("cli2@example.com", "cli-2", "Permanent", "General",
                                  services_now(), "sns"))
    result = runner.invoke(cli, ["erase", "cli2@example.com", "--reason",
                                 "argv \udcff undecodable", "--actor", "ops \x00"])
    assert result.exit_code == 0, result.output
    with TestClient(create_app(services=services)) as client:
        imported = history(client, "cli1@example.com")[-1]["data"]["reason"]
        assert imported == f"imported nul {FFFD} here"
        assert history(client, "cli2@example.com")[-1]["data"]["reason"] == f"argv {FFFD} " \
                                                                               "undecodable"
        assert_still_flowing(services, client)


def poison(services: Services, diagnostic: str) -> None:
    """Make the status view refuse one diagnostic, as a store refuses a value it cannot hold."""
    with services.db.write() as cur:
        if services.db.dialect == "postgresql":
            cur.execute("ALTER TABLE email_status ADD CONSTRAINT poison "
                        f"CHECK (diagnostic IS DISTINCT FROM '{diagnostic}')")
        else:
            for when in ("INSERT", "UPDATE"):
                cur.execute(f"CREATE TRIGGER poison_{when.lower()} BEFORE {when} ON "
                            f"email_status WHEN NEW.diagnostic = '{diagnostic}' "
                            "BEGIN SELECT RAISE(ABORT, 'poison'); END")


def cure(services: Services) -> None:
    with services.db.write() as cur:
        if services.db.dialect == "postgresql":
            cur.execute("ALTER TABLE email_status DROP CONSTRAINT poison")
        else:
            cur.execute("DROP TRIGGER poison_insert")
            cur.execute("DROP TRIGGER poison_update")


def hard(address: str, fid: str, diagnostic: str = "550 5.1.1 user unknown") -> Bounce:
    return Bounce(address, fid, "Permanent", "General", services_now(), "sns",
                  diagnostic=diagnostic)


def test_a_view_failing_on_one_address_quarantines_it_and_the_others_flow(
        services: Services) -> None:
    services.ledger.record(hard("victim@example.com", "v0", "first"))
    services.ledger.reset("victim@example.com", actor="ops", reason="fixed", consent=None,
                          is_admin=True, occurred_at=services_now(), source="api")
    poison(services, "poison")
    assert services.ledger.record(
        hard("victim@example.com", "v1", "poison"), hard("other@example.com", "o1"),
    ) == [True, True]
    assert services.reader.status("other@example.com")["status"] == "bounced"
    victim = services.reader.status("victim@example.com")
    assert (victim["sendable"], victim["reason"]) == (False, "projection_error")
    check = services.statuses.check(["victim@example.com", "other@example.com"])
    assert [r["sendable"] for r in check] == [False, False]
    # Later events of the quarantined address wait in order; others keep flowing.
    services.ledger.record(Bounce("victim@example.com", "v2", "Transient", "General",
                                  services_now(), "sns"), hard("third@example.com", "t1"))
    assert services.reader.status("third@example.com")["status"] == "bounced"
    [entry] = services.quarantined()
    views = len(services.projector.views)  # two events wait for every view
    assert entry["address"] == "victim@example.com" and entry["waiting"] == 2 * views
    with TestClient(create_app(services=services)) as client:
        ready = client.get("/readyz").json()
        assert (ready["status"], ready["quarantined"]) == ("degraded", 1)
        assert "bounceledger_projection_quarantined 1.0" in client.get("/metrics").text
        assert services.repair() != []  # still poisoned: stays quarantined
        cure(services)
        retried = client.post("/v1/quarantine:retry", headers=AUTH, json={})
        assert retried.status_code == 200 and retried.json() == {"quarantined": []}
    victim = services.reader.status("victim@example.com")
    assert (victim["status"], victim["reason"], victim["diagnostic"]) == (
        "bounced", "hard_bounce", "poison")
    assert victim["counts"]["hard_bounces"] == 2 and victim["counts"]["soft_bounces"] == 1
    services.ledger.record(hard("victim@example.com", "v3"))  # flows normally again
    assert services.reader.status("victim@example.com")["counts"]["hard_bounces"] == 3


def test_a_brand_new_address_whose_first_event_fails_is_not_sendable(
        services: Services) -> None:
    poison(services, "poison")
    services.ledger.record(hard("newcomer@example.com", "n1", "poison"))
    assert services.statuses.check(["newcomer@example.com"])[0]["sendable"] is False
    assert services.reader.status("newcomer@example.com")["reason"] == "projection_error"
