"""Verifying Amazon SNS HTTPS messages (SPEC §6), for the webhook and the SQS worker.

AWS: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
Peers get this wrong in known ways (SHA1 only, certificates from any ``*.amazonaws.com``
host — which includes anyone's S3 bucket —, confirming any SubscribeURL): here every rule
is checked in the SPEC's order, the certificate URL before any network access, and a refusal
carries its HTTP status and a stable ``code`` (also the metrics label).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.sns_certs import CertificateStore
from adapters.sns_refusal import SnsRefused
from adapters.sns_urls import check_cert_url, check_subscribe_url

__all__ = ["SnsMessage", "SnsRefused", "SnsVerifier", "check_cert_url", "check_subscribe_url",
           "parse_envelope"]

MAX_BODY = 512 * 1024
TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]
ENVELOPE = ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
            "Signature", "SigningCertURL", "Subject", "SubscribeURL", "Token", "UnsubscribeURL")
LAMBDA_KEYS = {"SigningCertUrl": "SigningCertURL", "UnsubscribeUrl": "UnsubscribeURL",
               "SubscribeUrl": "SubscribeURL"}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
RAW_DELIVERY = ("not an SNS message (no Type/Signature): raw message delivery must be off for "
                "HTTPS subscriptions")


@dataclass(frozen=True)
class SnsMessage:
    """A verified SNS message (string fields as received)."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: datetime
    subject: str | None = None
    subscribe_url: str | None = None
    token: str | None = None


def parse_envelope(body: bytes) -> dict[str, str]:
    """SPEC §6.1: size, JSON object, no duplicate keys, string fields, ``Type``/``Signature``."""
    if len(body) > MAX_BODY:
        raise SnsRefused(413, "too_large", f"body over {MAX_BODY // 1024} KiB")
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as error:
        raise SnsRefused(400, "duplicate_key", f"duplicate key {error.args[0]!r}") from None
    except (ValueError, RecursionError):
        raise SnsRefused(400, "malformed", RAW_DELIVERY) from None
    if not isinstance(data, dict) or "Type" not in data or "Signature" not in data:
        raise SnsRefused(400, "not_sns", RAW_DELIVERY)
    envelope: dict[str, str] = {}
    for key, value in data.items():
        key = LAMBDA_KEYS.get(key, key)
        if key not in ENVELOPE or (key == "Subject" and value is None):
            continue
        if not isinstance(value, str):
            raise SnsRefused(400, "malformed", f"field {key} must be a string")
        if not _is_unicode(value):
            raise SnsRefused(400, "malformed", f"field {key} is not valid Unicode (a lone "
                             "surrogate): SNS never sends one, and no signature can cover it")
        envelope[key] = value
    return envelope


def _is_unicode(value: str) -> bool:
    """False for a string holding a lone surrogate (JSON lets ``\\ud800`` through)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def topic_matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """ARN patterns with ``*`` wildcards (anything else is literal), matched whole."""
    compiled = [re.compile(".*".join(re.escape(part) for part in p.split("*")))
                for p in patterns]
    return lambda arn: any(c.fullmatch(arn) for c in compiled)


def string_to_sign(envelope: dict[str, str]) -> bytes:
    """The AWS string to sign: ``Key\\nValue\\n`` for each signed field present, fixed order."""
    fields = SIGNED[envelope["Type"]]
    return "".join(f"{k}\n{envelope[k]}\n" for k in fields if k in envelope).encode()


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SnsRefused(400, "malformed", "Timestamp is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SnsVerifier:
    """SPEC §6.1 to §6.6 for one message; ``check_age=False`` on the SQS path (§6.6)."""

    def __init__(self, topic_patterns: Sequence[str], certificates: CertificateStore,
                 max_age_s: int = 86400,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.topic_patterns = list(topic_patterns)
        self._allowed = topic_matcher(self.topic_patterns)
        self.certificates, self.max_age_s, self.clock = certificates, max_age_s, clock

    def verify(self, body: bytes, header_type: str | None = None, *,
               check_age: bool = True) -> SnsMessage:
        envelope = parse_envelope(body)
        self._check_type(envelope, header_type)
        self._check_topic(envelope.get("TopicArn", ""))
        host, name = check_cert_url(envelope.get("SigningCertURL", ""),
                                    envelope.get("TopicArn", ""))
        algorithm = HASHES.get(envelope.get("SignatureVersion", ""))
        if algorithm is None:
            raise SnsRefused(403, "bad_signature_version", "SignatureVersion must be 1 or 2")
        missing = [k for k in ("MessageId", "Message", "Timestamp") if k not in envelope]
        if missing:
            raise SnsRefused(400, "malformed", f"missing {', '.join(missing)}")
        timestamp = _timestamp(envelope["Timestamp"])
        self._check_signature(envelope, host, name, algorithm(), timestamp)
        if check_age and self.max_age_s and (
                (self.clock() - timestamp).total_seconds() > self.max_age_s):
            raise SnsRefused(403, "stale", "Timestamp older than BOUNCELEDGER_SNS_MAX_AGE_S")
        return SnsMessage(envelope["Type"], envelope["MessageId"], envelope["TopicArn"],
                          envelope["Message"], timestamp, envelope.get("Subject"),
                          envelope.get("SubscribeURL"), envelope.get("Token"))

    @staticmethod
    def _check_type(envelope: dict[str, str], header_type: str | None) -> None:
        kind = envelope["Type"]
        if kind not in TYPES:
            raise SnsRefused(400, "bad_type", f"unknown Type {kind!r}")
        if header_type is not None and header_type != kind:
            raise SnsRefused(400, "type_mismatch",
                             "x-amz-sns-message-type does not agree with Type")

    def _check_topic(self, arn: str) -> None:
        if not self.topic_patterns:
            raise SnsRefused(403, "topic_not_allowed", "no topic is allowed: set "
                             "BOUNCELEDGER_SNS_TOPIC_ARNS to the topic ARNs to accept")
        if not self._allowed(arn):
            raise SnsRefused(403, "topic_not_allowed",
                             "TopicArn is not in BOUNCELEDGER_SNS_TOPIC_ARNS")

    def _check_signature(self, envelope: dict[str, str], host: str, name: str,
                         algorithm: hashes.HashAlgorithm, timestamp: datetime) -> None:
        try:
            signature = base64.b64decode(envelope["Signature"], validate=True)
        except (binascii.Error, ValueError):
            raise SnsRefused(403, "bad_signature", "Signature is not base64") from None
        certificate = self.certificates.get(host, name)
        if not (certificate.not_valid_before_utc <= timestamp <= certificate.not_valid_after_utc):
            raise SnsRefused(403, "cert_not_valid_then",
                             "Timestamp lies outside the certificate's validity")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SnsRefused(403, "bad_signature", "the certificate key is not RSA")
        try:
            key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise SnsRefused(403, "bad_signature", "the signature does not verify") from None
