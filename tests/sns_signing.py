"""Our own SNS-style signer for tests: an RSA key and a self-signed certificate naming
sns.amazonaws.com, pre-seeded in a certificate directory like a deployment would."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from adapters.sns import string_to_sign

HOST = "sns.us-east-1.amazonaws.com"
CERT_NAME = "SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
CERT_URL = f"https://{HOST}/{CERT_NAME}"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-feedback"


def make_certificate(key: rsa.RSAPrivateKey, cn: str = "sns.amazonaws.com",
                     days: int = 3650) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=days))
            .not_valid_after(now + timedelta(days=days))
            .sign(key, hashes.SHA256()))


class Signer:
    def __init__(self, cert_dir: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate = make_certificate(self.key)
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        (cert_dir / HOST).mkdir(parents=True, exist_ok=True)
        (cert_dir / HOST / CERT_NAME).write_bytes(self.pem)
        self.cert_dir = cert_dir

    def sign(self, envelope: dict[str, str], version: str = "2",
             key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        signed = {**envelope, "SignatureVersion": version}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = (key or self.key).sign(string_to_sign(signed), padding.PKCS1v15(), algorithm)
        signed["Signature"] = base64.b64encode(signature).decode()
        return signed

    def notification(self, message: str | dict[str, Any], *, version: str = "2",
                     topic: str = TOPIC, timestamp: datetime | None = None,
                     message_id: str | None = None, **extra: str) -> dict[str, str]:
        text = message if isinstance(message, str) else json.dumps(message)
        envelope = {"Type": "Notification", "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": topic, "Message": text,
                    "Timestamp": _stamp(timestamp or datetime.now(UTC)),
                    "SigningCertURL": CERT_URL,
                    "UnsubscribeURL": f"https://{HOST}/?Action=Unsubscribe&SubscriptionArn=x",
                    **extra}
        return self.sign(envelope, version)

    def confirmation(self, kind: str = "SubscriptionConfirmation", *, version: str = "2",
                     topic: str = TOPIC, subscribe_url: str | None = None) -> dict[str, str]:
        token = uuid.uuid4().hex
        envelope = {"Type": kind, "MessageId": str(uuid.uuid4()), "Token": token,
                    "TopicArn": topic, "Message": "You have chosen to subscribe.",
                    "SubscribeURL": subscribe_url or (
                        f"https://{HOST}/?Action=ConfirmSubscription&TopicArn={topic}"
                        f"&Token={token}"),
                    "Timestamp": _stamp(datetime.now(UTC)), "SigningCertURL": CERT_URL}
        return self.sign(envelope, version)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def ses_bounce(address: str, *, feedback_id: str = "", bounce_type: str = "Permanent",
               subtype: str = "General", message_id: str = "ses-msg-1",
               when: datetime | None = None, status: str = "5.1.1",
               diagnostic: str = "smtp; 550 5.1.1 user unknown",
               source: str = "News <news@shop.example>") -> dict[str, Any]:
    stamp = _stamp(when or datetime.now(UTC))
    return {"notificationType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bounceSubType": subtype,
                       "bouncedRecipients": [{"emailAddress": address, "action": "failed",
                                              "status": status,
                                              "diagnosticCode": diagnostic}],
                       "timestamp": stamp, "feedbackId": feedback_id or str(uuid.uuid4()),
                       "reportingMTA": "dsn; a1.example.com"},
            "mail": {"timestamp": stamp, "messageId": message_id,
                     "source": source, "sendingAccountId": "123456789012",
                     "destination": [address]}}
