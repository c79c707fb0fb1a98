"""Certificate fetching and caching, and subscription confirmation (SPEC §6.4 and §6.7)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapters.sns import SnsRefused, SnsVerifier, check_subscribe_url
from adapters.sns_certs import CertificateStore, confirm_subscription
from tests.adapters.conftest import Recorder
from tests.sns_signing import CERT_NAME, HOST, TOPIC, Signer


def fresh(signer: Signer, tmp_path: Path, recorder: Recorder) -> tuple[SnsVerifier, Path]:
    """A verifier whose certificate directory starts empty, fetching through ``recorder``."""
    cert_dir = tmp_path / "empty-cache"
    store = CertificateStore(recorder.client(), str(cert_dir))
    return SnsVerifier([TOPIC], store), cert_dir


def test_a_valid_certificate_is_fetched_once_and_cached(signer: Signer, tmp_path: Path) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, content=signer.pem))
    verifier, cert_dir = fresh(signer, tmp_path, recorder)
    for _ in range(3):
        verifier.verify(json.dumps(signer.notification("x")).encode())
    assert [str(r.url) for r in recorder.requests] == [f"https://{HOST}/{CERT_NAME}"]
    assert (cert_dir / HOST / CERT_NAME).read_bytes() == signer.pem
    again, _ = fresh(signer, tmp_path, Recorder())  # a new process finds it on disk
    again.verify(json.dumps(signer.notification("x")).encode())


@pytest.mark.parametrize("respond", [
    lambda r: httpx.Response(200, content=b"not a certificate"),
    lambda r: httpx.Response(200, content=b"-----BEGIN CERTIFICATE-----" + b"A" * 70_000),
    lambda r: httpx.Response(301, headers={"Location": "https://evil.example/c.pem"}),
    lambda r: httpx.Response(404),
    lambda r: (_ for _ in ()).throw(httpx.ConnectTimeout("slow")),
], ids=["not-a-cert", "too-large", "redirect", "missing", "timeout"])
def test_a_bad_fetch_is_refused_and_not_cached(signer: Signer, tmp_path: Path,
                                               respond: object) -> None:
    recorder = Recorder(respond)  # type: ignore[arg-type]
    verifier, cert_dir = fresh(signer, tmp_path, recorder)
    for _ in range(2):
        with pytest.raises(SnsRefused) as info:
            verifier.verify(json.dumps(signer.notification("x")).encode())
        assert (info.value.status, info.value.code) == (502, "cert_fetch_failed")
    assert len(recorder.requests) == 2  # not cached: each attempt fetches again
    assert not (cert_dir / HOST / CERT_NAME).exists()


def test_two_pems_in_one_body_are_refused(signer: Signer, tmp_path: Path) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, content=signer.pem * 2))
    verifier, _ = fresh(signer, tmp_path, recorder)
    with pytest.raises(SnsRefused):
        verifier.verify(json.dumps(signer.notification("x")).encode())


@pytest.mark.parametrize("url", [
    "https://evil.example/?Action=ConfirmSubscription&TopicArn={t}&Token=a",
    "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={t}&Token=a",
    "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription"
    "&TopicArn={t}&Token=a",
    "https://sns.us-east-1.amazonaws.com/x?Action=ConfirmSubscription&TopicArn={t}&Token=a",
    "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&TopicArn={t}&Token=a",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:other"
    "&Token=a",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={t}",
    "https://sns.us-east-1.amazonaws.com:444/?Action=ConfirmSubscription&TopicArn={t}&Token=a",
])
def test_subscribe_urls_elsewhere_are_refused(url: str) -> None:
    with pytest.raises(SnsRefused) as info:
        check_subscribe_url(url.format(t=TOPIC), TOPIC)
    assert (info.value.status, info.value.code) == (403, "bad_subscribe_url")


def test_confirmation_is_one_get_and_a_failure_is_502() -> None:
    url = f"https://{HOST}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t"
    ok = Recorder(lambda request: httpx.Response(200, content=b"<ConfirmSubscriptionResponse/>"))
    confirm_subscription(ok.client(), check_subscribe_url(url, TOPIC))
    assert [(r.method, str(r.url)) for r in ok.requests] == [("GET", url)]
    failing = Recorder(lambda request: httpx.Response(500))
    with pytest.raises(SnsRefused) as info:
        confirm_subscription(failing.client(), url)
    assert (info.value.status, info.value.code) == (502, "confirm_failed")
