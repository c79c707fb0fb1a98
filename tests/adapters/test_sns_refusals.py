"""Every refusal class of SPEC §6, answered with the right status and code, and never a
network request for a refused message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.sns import SnsRefused, SnsVerifier
from adapters.sns_certs import CertificateStore
from tests.adapters.conftest import VECTORS, Recorder
from tests.sns_signing import HOST, TOPIC, Signer


def body(envelope: dict) -> bytes:
    return json.dumps(envelope).encode()


def refused(verifier: SnsVerifier, raw: bytes, header: str | None = None) -> SnsRefused:
    with pytest.raises(SnsRefused) as info:
        verifier.verify(raw, header)
    return info.value


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("kind", ["Notification", "SubscriptionConfirmation",
                                  "UnsubscribeConfirmation"])
def test_both_signature_versions_for_every_type(signer: Signer, verifier: SnsVerifier,
                                                transport: Recorder, version: str,
                                                kind: str) -> None:
    envelope = (signer.notification("hello", version=version, Subject="s")
                if kind == "Notification" else signer.confirmation(kind, version=version))
    message = verifier.verify(body(envelope), kind)
    assert message.type == kind and transport.requests == []


def test_bad_signature(signer: Signer, verifier: SnsVerifier) -> None:
    envelope = signer.notification("hello")
    envelope["Signature"] = signer.notification("other")["Signature"]
    assert refused(verifier, body(envelope)).code == "bad_signature"


def test_tampered_field(signer: Signer, verifier: SnsVerifier) -> None:
    envelope = {**signer.notification("hello"), "Message": "HELLO"}
    error = refused(verifier, body(envelope))
    assert (error.status, error.code) == (403, "bad_signature")


def test_wrong_key(signer: Signer, verifier: SnsVerifier) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    envelope = signer.sign({k: v for k, v in signer.notification("x").items()
                            if k != "Signature"}, key=other)
    assert refused(verifier, body(envelope)).code == "bad_signature"


@pytest.mark.parametrize("version", ["3", "0", "", "SHA1"])
def test_unknown_signature_version(signer: Signer, verifier: SnsVerifier,
                                   transport: Recorder, version: str) -> None:
    envelope = {**signer.notification("x"), "SignatureVersion": version}
    error = refused(verifier, body(envelope))
    assert (error.status, error.code) == (403, "bad_signature_version")
    assert transport.requests == []


@pytest.mark.parametrize("url", [
    f"http://{HOST}/SimpleNotificationService-abc.pem",
    "https://example.com/SimpleNotificationService-abc.pem",
    f"https://{HOST}.evil.example/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
    "https://s3.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://bucket.s3.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-abc.pem",
    f"https://user@{HOST}/SimpleNotificationService-abc.pem",
    f"https://{HOST}:443/SimpleNotificationService-abc.pem",
    f"https://{HOST}:8443/SimpleNotificationService-abc.pem",
    f"https://{HOST}/SimpleNotificationService-abc.crt",
    f"https://{HOST}/SimpleNotificationService-ABC.pem",
    f"https://{HOST}/other/SimpleNotificationService-abc.pem",
    f"https://{HOST}/SimpleNotificationService-abc.pem?x=1",
    f"https://{HOST}/SimpleNotificationService-abc.pem#frag",
    f"https://{HOST.upper()}/SimpleNotificationService-abc.pem",
    "https://sns.amazonaws.com.cn.evil.example/SimpleNotificationService-abc.pem",
    "",
])
def test_cert_url_bypass_shapes_are_refused_without_a_fetch(
        signer: Signer, verifier: SnsVerifier, transport: Recorder, url: str) -> None:
    envelope = signer.notification("x", SigningCertURL=url)
    error = refused(verifier, body(envelope))
    assert (error.status, error.code) == (403, "bad_cert_url")
    assert transport.requests == []


def test_topic_not_allowed(signer: Signer, verifier: SnsVerifier, transport: Recorder) -> None:
    envelope = signer.notification("x", topic="arn:aws:sns:us-east-1:999999999999:theirs")
    error = refused(verifier, body(envelope))
    assert (error.status, error.code) == (403, "topic_not_allowed")
    assert transport.requests == []


def test_empty_allow_list_names_the_setting(signer: Signer, transport: Recorder) -> None:
    verifier = SnsVerifier([], CertificateStore(transport.client(), str(signer.cert_dir)))
    error = refused(verifier, body(signer.notification("x")))
    assert error.status == 403 and "BOUNCELEDGER_SNS_TOPIC_ARNS" in error.message


def test_wildcard_topics(signer: Signer, transport: Recorder) -> None:
    store = CertificateStore(transport.client(), str(signer.cert_dir))
    verifier = SnsVerifier(["arn:aws:sns:*:123456789012:ses-*"], store)
    assert verifier.verify(body(signer.notification("x"))).topic_arn == TOPIC
    other = signer.notification("x", topic="arn:aws:sns:us-east-1:123456789012:other")
    assert refused(verifier, body(other)).code == "topic_not_allowed"
    dotted = signer.notification("x", topic="arn:aws:sns:us-east-1:123456789012Xses-feedback")
    assert refused(SnsVerifier(["arn:aws:sns:us-east-1:123456789012:ses-feedback"], store),
                   body(dotted)).code == "topic_not_allowed"


def test_stale_timestamp(signer: Signer, verifier: SnsVerifier) -> None:
    old = signer.notification("x", timestamp=datetime.now(UTC) - timedelta(days=2))
    error = refused(verifier, body(old))
    assert (error.status, error.code) == (403, "stale")
    assert verifier.verify(body(old), check_age=False).message == "x"


def test_timestamp_outside_the_certificate_validity(signer: Signer,
                                                    verifier: SnsVerifier) -> None:
    ancient = signer.notification("x", timestamp=datetime(1990, 1, 1, tzinfo=UTC))
    verifier.max_age_s = 0
    assert refused(verifier, body(ancient)).code == "cert_not_valid_then"


def test_header_type_mismatch(signer: Signer, verifier: SnsVerifier) -> None:
    error = refused(verifier, body(signer.notification("x")), "SubscriptionConfirmation")
    assert (error.status, error.code) == (400, "type_mismatch")


def test_unknown_type(signer: Signer, verifier: SnsVerifier) -> None:
    envelope = {**signer.notification("x"), "Type": "Surprise"}
    assert refused(verifier, body(envelope)).code == "bad_type"


def test_oversized_body(verifier: SnsVerifier) -> None:
    assert refused(verifier, b"{" + b" " * (512 * 1024) + b"}").status == 413


@pytest.mark.parametrize("raw", [b"", b"{nope", b"[]", b"42", b'"text"', b"\xff\xfe"])
def test_malformed_json(verifier: SnsVerifier, raw: bytes) -> None:
    error = refused(verifier, raw)
    assert error.status == 400 and "raw message delivery" in error.message


def test_duplicate_keys(signer: Signer, verifier: SnsVerifier) -> None:
    text = json.dumps(signer.notification("x"))
    error = refused(verifier, (text[:-1] + ', "Message": "y"}').encode())
    assert (error.status, error.code) == (400, "duplicate_key")


def test_signed_field_that_is_not_a_string(signer: Signer, verifier: SnsVerifier) -> None:
    envelope = {**signer.notification("x"), "Message": {"a": 1}}
    assert refused(verifier, body(envelope)).status == 400


@pytest.mark.parametrize("path", sorted((VECTORS / "sns" / "sqs-raw").iterdir()),
                         ids=lambda p: p.name)
def test_raw_delivery_bodies_explain_the_setting(verifier: SnsVerifier, path: Path) -> None:
    error = refused(verifier, path.read_bytes())
    assert error.status == 400 and "raw message delivery must be off" in error.message
