"""Real AWS-signed SNS messages verify with their real certificates, and only unaltered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.sns import LAMBDA_KEYS, SIGNED, SnsRefused, SnsVerifier
from adapters.sns_certs import CertificateStore
from tests.adapters.conftest import SNS_VECTORS, Recorder


def verifier_for(cert_dir: Path, transport: Recorder) -> SnsVerifier:
    # Timestamp window off: the vectors are years old (their certificates have expired too,
    # which is why validity is checked against the message Timestamp, not the wall clock).
    return SnsVerifier(["*"], CertificateStore(transport.client(), str(cert_dir)), max_age_s=0)


@pytest.mark.parametrize("path", SNS_VECTORS, ids=lambda p: p.name)
def test_real_vector_verifies(path: Path, vector_cert_dir: Path, transport: Recorder) -> None:
    message = verifier_for(vector_cert_dir, transport).verify(path.read_bytes())
    data = json.loads(path.read_text())
    assert (message.type, message.message_id, message.message) == (
        data["Type"], data["MessageId"], data["Message"])
    assert transport.requests == []


def _signed_fields(data: dict) -> list[str]:
    kind = data["Type"]
    names = {LAMBDA_KEYS.get(k, k): k for k in data}
    return [names[f] for f in SIGNED[kind] if f in names and data[names[f]] is not None]


@pytest.mark.parametrize("path", SNS_VECTORS, ids=lambda p: p.name)
def test_any_altered_signed_field_is_refused(path: Path, vector_cert_dir: Path,
                                             transport: Recorder) -> None:
    data = json.loads(path.read_text())
    verifier = verifier_for(vector_cert_dir, transport)
    for field in _signed_fields(data):
        if field == "Type":
            continue  # another Type changes which fields are signed; covered below
        altered = {**data, field: data[field] + " "}
        with pytest.raises(SnsRefused) as refused:
            verifier.verify(json.dumps(altered).encode())
        assert refused.value.status in (400, 403), field
    flipped = {**data, "Signature": data["Signature"][:-4] + "AAA="}
    with pytest.raises(SnsRefused):
        verifier.verify(json.dumps(flipped).encode())
    assert transport.requests == []


@pytest.mark.parametrize("path", SNS_VECTORS, ids=lambda p: p.name)
def test_swapping_the_signature_version_is_refused(path: Path, vector_cert_dir: Path,
                                                   transport: Recorder) -> None:
    data = json.loads(path.read_text())
    swapped = {**data, "SignatureVersion": "2" if data["SignatureVersion"] == "1" else "1"}
    with pytest.raises(SnsRefused) as refused:
        verifier_for(vector_cert_dir, transport).verify(json.dumps(swapped).encode())
    assert refused.value.code == "bad_signature"
