"""Issue 13 items 1 and 2: the certificate host is the TopicArn's regional SNS host (SPEC §6.4),
and hostile text is refused with a 4xx before any verification or fetch (SPEC §6.9)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapters.sns import ENVELOPE, SnsRefused, SnsVerifier, check_subscribe_url
from adapters.sns_certs import CertificateStore
from adapters.sns_urls import sns_host
from tests.adapters.conftest import Recorder
from tests.sns_signing import CERT_NAME, HOST, TOPIC, Signer

GOOD_PATH = f"/{CERT_NAME}"


def seeded(signer: Signer, *hosts: str) -> None:
    """Our certificate under other hosts too: files in the directory are trusted as if
    fetched, so only the host rule stands between such a host and a valid signature."""
    for host in (h for h in hosts if h != HOST):
        (signer.cert_dir / host).mkdir(parents=True, exist_ok=True)
        shutil.copy(signer.cert_dir / HOST / CERT_NAME, signer.cert_dir / host / CERT_NAME)


def verify(verifier: SnsVerifier, envelope: dict[str, str]) -> SnsRefused:
    with pytest.raises(SnsRefused) as info:
        verifier.verify(json.dumps(envelope).encode())
    return info.value


@pytest.mark.parametrize("host", [
    "sns.s3.amazonaws.com",  # the S3 bucket named "sns"
    "sns.s3-us-west-2.amazonaws.com",  # the same bucket, legacy regional S3 name
    "sns.s3.us-east-1.amazonaws.com",
    "sns.us-west-2.amazonaws.com",  # a real SNS host, but not the topic's region
    "sns.us-east-1.amazonaws.com.cn",  # the China suffix for a topic of partition aws
    "sns.amazonaws.com",
    "sns.us-east-1.amazonaws.com.",
    "sns.execute-api.us-east-1.amazonaws.com",
])
def test_only_the_topics_regional_host_is_trusted(signer: Signer, transport: Recorder,
                                                   host: str) -> None:
    seeded(signer, host)
    verifier = SnsVerifier([TOPIC], CertificateStore(transport.client(), str(signer.cert_dir)))
    envelope = signer.notification("x", SigningCertURL=f"https://{host}{GOOD_PATH}")
    error = verify(verifier, envelope)
    assert (error.status, error.code) == (403, "bad_cert_url")
    assert transport.requests == []


@pytest.mark.parametrize(("topic", "host"), [
    ("arn:aws:sns:eu-central-1:123456789012:ses", "sns.eu-central-1.amazonaws.com"),
    ("arn:aws-cn:sns:cn-north-1:123456789012:ses", "sns.cn-north-1.amazonaws.com.cn"),
    ("arn:aws-us-gov:sns:us-gov-west-1:123456789012:ses", "sns.us-gov-west-1.amazonaws.com"),
    ("arn:aws:sns:ap-southeast-2:123456789012:feedback.fifo",
     "sns.ap-southeast-2.amazonaws.com"),
])
def test_each_partition_verifies_on_its_own_host(signer: Signer, transport: Recorder,
                                                 topic: str, host: str) -> None:
    seeded(signer, host)
    verifier = SnsVerifier([topic], CertificateStore(transport.client(), str(signer.cert_dir)))
    envelope = signer.notification("x", topic=topic, SigningCertURL=f"https://{host}{GOOD_PATH}")
    assert verifier.verify(json.dumps(envelope).encode()).topic_arn == topic
    assert sns_host(topic) == host


@pytest.mark.parametrize(("topic", "host"), [
    ("arn:aws-cn:sns:cn-north-1:123456789012:ses", "sns.cn-north-1.amazonaws.com"),
    ("arn:aws:sns:s3:123456789012:ses", "sns.s3.amazonaws.com"),  # a wildcard let it in
    ("arn:aws:sns:s3-us-west-2:123456789012:ses", "sns.s3-us-west-2.amazonaws.com"),
    ("arn:aws-iso:sns:us-iso-east-1:123456789012:ses", "sns.us-iso-east-1.amazonaws.com"),
    ("arn:aws:sns:us-east-1:123456789012:ses:extra", "sns.us-east-1.amazonaws.com"),
    ("arn:aws:s3:us-east-1:123456789012:ses", "sns.us-east-1.amazonaws.com"),
])
def test_a_topic_without_a_trusted_sns_host_is_refused(signer: Signer, transport: Recorder,
                                                       topic: str, host: str) -> None:
    seeded(signer, host)
    verifier = SnsVerifier(["arn:*"], CertificateStore(transport.client(), str(signer.cert_dir)))
    envelope = signer.notification("x", topic=topic, SigningCertURL=f"https://{host}{GOOD_PATH}")
    assert verify(verifier, envelope).code == "bad_cert_url"
    assert transport.requests == []


UNSPLITTABLE = [
    f"https://{HOST}\uff0f{CERT_NAME}",  # fullwidth solidus: NFKC makes it a "/"
    f"https://{HOST}\uff03{GOOD_PATH}",  # fullwidth number sign
    f"https://{HOST}\uff1f{GOOD_PATH}",  # fullwidth question mark
    f"https://{HOST}\uff20evil.example{GOOD_PATH}",  # fullwidth commercial at
    f"https://[{HOST}{GOOD_PATH}",  # unbalanced bracket
    f"https://{HOST}]{GOOD_PATH}",
    f"https://[::1{GOOD_PATH}",
    f"https://{HOST}:https{GOOD_PATH}",  # a port that is not a number
    f"https://{HOST}\u202e{GOOD_PATH}",  # bidi override
    f"https://{HOST}\x00{GOOD_PATH}",
    f"https://sn\u0455.us-east-1.amazonaws.com{GOOD_PATH}",  # Cyrillic dze looks like "s"
]


@pytest.mark.parametrize("url", UNSPLITTABLE)
def test_unsplittable_certificate_urls_are_a_403_not_an_exception(
        verifier: SnsVerifier, signer: Signer, transport: Recorder, url: str) -> None:
    error = verify(verifier, signer.notification("x", SigningCertURL=url))
    assert (error.status, error.code) == (403, "bad_cert_url")
    assert transport.requests == []


@pytest.mark.parametrize("url", [u.replace(GOOD_PATH, "/?Action=ConfirmSubscription")
                                 for u in UNSPLITTABLE] + [
    f"https://sns.s3.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t",
    f"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t",
])
def test_hostile_subscribe_urls_are_a_403(url: str) -> None:
    with pytest.raises(SnsRefused) as info:
        check_subscribe_url(f"{url}&TopicArn={TOPIC}&Token=t", TOPIC)
    assert (info.value.status, info.value.code) == (403, "bad_subscribe_url")


@pytest.mark.parametrize("field", ENVELOPE)
@pytest.mark.parametrize("kind", ["Notification", "SubscriptionConfirmation"])
def test_a_lone_surrogate_in_any_field_is_a_400_before_verification(
        signer: Signer, verifier: SnsVerifier, transport: Recorder, tmp_path: Path,
        field: str, kind: str) -> None:
    envelope = (signer.notification("x", Subject="s") if kind == "Notification"
                else signer.confirmation())
    envelope[field] = "a\ud800b" if field != "Type" else kind + "\udfff"
    error = verify(verifier, envelope)  # json.dumps writes the surrogate as \ud800
    assert error.status == 400 and "lone surrogate" in error.message
    assert transport.requests == []
