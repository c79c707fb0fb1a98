"""``verify_webhook`` for receivers, against the Standard Webhooks reference library."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from adapters.standard_webhooks import (
    WebhookVerificationError,
    address_id,
    sign_webhook,
    verify_webhook,
)
from adapters.webhook_endpoints import new_secret
from domain.addresses import address_id as ledger_address_id

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
BODY = b'{"type":"address.blocked","timestamp":"2026-01-01T00:00:00.000000Z","data":{}}'


def reference_headers(secret: str, msg_id: str, body: bytes, at: int) -> dict[str, str]:
    """Headers signed by the reference implementation, not by us."""
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(at), "webhook-signature": signature}


def test_a_reference_signature_verifies() -> None:
    now = int(time.time())
    assert verify_webhook(SECRET, reference_headers(SECRET, "msg_1", BODY, now), BODY)[
        "type"] == "address.blocked"


def test_our_signature_is_the_reference_signature() -> None:
    secret = new_secret()
    at = 1_700_000_000
    assert sign_webhook(secret, "msg_x", at, BODY) == Webhook(secret).sign(
        "msg_x", datetime.fromtimestamp(at, UTC), BODY.decode())


def test_header_names_are_case_insensitive() -> None:
    now = int(time.time())
    headers = {k.title(): v for k, v in reference_headers(SECRET, "msg_1", BODY, now).items()}
    verify_webhook(SECRET, headers, BODY)


def test_any_of_several_signatures_and_secrets_may_match() -> None:
    now, other = int(time.time()), new_secret()
    headers = reference_headers(SECRET, "msg_1", BODY, now)
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    verify_webhook([other, SECRET], headers, BODY)


@given(st.binary(min_size=1, max_size=200))
def test_a_changed_body_is_refused(extra: bytes) -> None:
    now = int(time.time())
    headers = reference_headers(SECRET, "msg_1", BODY, now)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, headers, BODY + extra)


@given(st.text(min_size=1, max_size=20).filter(lambda s: s != "msg_1"))
def test_a_changed_id_is_refused(other_id: str) -> None:
    now = int(time.time())
    headers = {**reference_headers(SECRET, "msg_1", BODY, now), "webhook-id": other_id}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, headers, BODY)


def test_an_old_timestamp_is_refused_as_a_replay() -> None:
    old = int(time.time()) - 600
    with pytest.raises(WebhookVerificationError, match="too old or too new"):
        verify_webhook(SECRET, reference_headers(SECRET, "msg_1", BODY, old), BODY)


def test_a_missing_header_is_refused() -> None:
    headers = reference_headers(SECRET, "msg_1", BODY, int(time.time()))
    del headers["webhook-signature"]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(SECRET, headers, BODY)


def test_a_wrong_secret_is_refused() -> None:
    headers = reference_headers(SECRET, "msg_1", BODY, int(time.time()))
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify_webhook(new_secret(), headers, BODY)


def test_address_id_is_the_ledgers_id() -> None:
    assert address_id("ann@example.org") == str(ledger_address_id("ann@example.org"))


def test_the_helper_imports_nothing_of_the_server() -> None:
    import subprocess
    import sys

    code = ("import sys, adapters.standard_webhooks; "
            "heavy = {'fastapi', 'eventsourcing', 'psycopg', 'redis', 'boto3', 'httpx'}; "
            "print(sorted(heavy & set(sys.modules)))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert output == "[]"
