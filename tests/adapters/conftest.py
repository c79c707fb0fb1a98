from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from adapters.sns import SnsVerifier
from adapters.sns_certs import CertificateStore
from tests.sns_signing import TOPIC, Signer


def vectors_dir() -> Path:
    """The real AWS-signed vectors: a copy lives in ``tests/vectors`` (provenance in its
    READMEs; the originals are ``../shared/vectors``) so a clean clone tests on its own."""
    return Path(__file__).resolve().parents[1] / "vectors"


VECTORS = vectors_dir()
SNS_VECTORS = sorted((VECTORS / "sns").glob("*.json"))


class Recorder:
    """An httpx transport that records every request and answers with ``respond``."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond or (lambda request: httpx.Response(599))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


@pytest.fixture
def transport() -> Recorder:
    return Recorder()


@pytest.fixture
def vector_cert_dir(tmp_path: Path) -> Path:
    """The real certificates, one copy per regional host the vectors use."""
    cert_dir = tmp_path / "vector-certs"
    for path in SNS_VECTORS:
        data = json.loads(path.read_text())
        url = data.get("SigningCertURL") or data["SigningCertUrl"]
        host, name = url.split("/")[2], url.rsplit("/", 1)[1]
        (cert_dir / host).mkdir(parents=True, exist_ok=True)
        shutil.copy(VECTORS / "sns" / "certs" / name, cert_dir / host / name)
    return cert_dir


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path / "certs")


@pytest.fixture
def verifier(signer: Signer, transport: Recorder) -> SnsVerifier:
    return SnsVerifier([TOPIC], CertificateStore(transport.client(), str(signer.cert_dir)))
