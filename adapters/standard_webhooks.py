"""Verify bounceledger's outgoing webhooks in a host application (Standard Webhooks).

Standard library only, so a host application can import it without bounceledger's server
dependencies — or copy this one file. Usage::

    from adapters.standard_webhooks import WebhookVerificationError, verify_webhook

    try:
        event = verify_webhook(SECRET, request.headers, raw_body)
    except WebhookVerificationError:
        return 400
    if already_seen(request.headers["webhook-id"]):   # deliveries are at least once
        return 204
    ...

The signature is ``v1,`` + base64 HMAC-SHA256 of ``webhook-id.webhook-timestamp.body`` keyed
with the base64-decoded part of the ``whsec_`` secret
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
Verify the raw body bytes as received: parsing and re-serialising JSON changes them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID, uuid5

__all__ = ["WebhookVerificationError", "address_id", "sign_webhook", "verify_webhook"]

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300
# bounceledger's aggregate id of an address: uuid5 of the normalized address in this namespace.
ADDRESS_NAMESPACE = UUID("6f1c8a52-8f0e-5b7e-9a53-2c1d0b6f4e21")


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh bounceledger delivery: answer 4xx, keep nothing."""


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the secret is not whsec_ followed by base64") from None
    if not key:
        raise WebhookVerificationError("the secret is empty")
    return key


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 signature>`` of one delivery."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(secret: str | Iterable[str], headers: Mapping[str, str], body: bytes | str,
                   *, tolerance_s: int = TOLERANCE_S, now: float | None = None) -> Any:
    """Check the ``webhook-*`` headers against the raw body and return the parsed JSON.

    ``secret`` may be several secrets (yours during a rotation: the old and the new).
    Raises ``WebhookVerificationError`` for a missing header, a timestamp more than
    ``tolerance_s`` seconds away from now (a replay), or no matching ``v1`` signature.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lower = {key.lower(): value for key, value in headers.items()}
    msg_id, stamp, signatures = (lower.get(name, "") for name in (
        "webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or "
                                       "webhook-signature header")
    timestamp = _timestamp(stamp, tolerance_s, time.time() if now is None else now)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [sign_webhook(s, msg_id, timestamp, raw).encode() for s in secrets]
    for candidate in signatures.split():
        if any(hmac.compare_digest(candidate.encode(), e) for e in expected):
            return json.loads(raw)
    raise WebhookVerificationError("no matching signature")


def _timestamp(value: str, tolerance_s: int, now: float) -> int:
    if not value.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not a Unix time in seconds")
    timestamp = int(value)
    if abs(now - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is too old or too new")
    return timestamp


def address_id(address: str) -> str:
    """bounceledger's ``address_id`` of a normalized address (as in the payloads' ``address``
    field): keep it beside the address to recognise an ``address.erased`` later."""
    return str(uuid5(ADDRESS_NAMESPACE, address))
