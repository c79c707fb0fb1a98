"""SNS signing certificates: memory, then ``<cert_dir>/<host>/<file>``, then one HTTPS fetch.

Files already in the directory are trusted as if fetched (tests and air-gapped deployments
pre-seed it; AWS serves the same file from every regional host). A fetch uses verified TLS,
no redirects, a 5 s timeout and a 64 KiB cap; the body must be exactly one PEM certificate
naming the SNS host. A failed fetch is not cached and answers 502, so SNS retries.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.x509.oid import NameOID

from adapters.sns_refusal import SnsRefused

MAX_CERT = 64 * 1024
PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def load_certificate(pem: bytes, host: str) -> x509.Certificate:
    """Exactly one PEM certificate whose subject CN or SAN names SNS."""
    if pem.count(PEM_BEGIN) != 1:
        raise ValueError("expected exactly one PEM certificate")
    certificate = x509.load_pem_x509_certificate(pem)
    names = {a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names |= set(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    if not names & {"sns.amazonaws.com", host}:
        raise ValueError("the certificate does not name sns.amazonaws.com")
    return certificate


class CertificateStore:
    def __init__(self, client: httpx.Client, cert_dir: str | None = None) -> None:
        self.client, self.cert_dir = client, Path(cert_dir) if cert_dir else None
        self._memory: dict[tuple[str, str], x509.Certificate] = {}
        self._lock = threading.Lock()

    def get(self, host: str, name: str) -> x509.Certificate:
        """The certificate at ``https://{host}/{name}`` (host and name already checked)."""
        key = (host, name)
        if key in self._memory:
            return self._memory[key]
        with self._lock:
            if key not in self._memory:
                self._memory[key] = self._from_disk(host, name) or self._fetch(host, name)
            return self._memory[key]

    def _path(self, host: str, name: str) -> Path | None:
        return self.cert_dir / host / name if self.cert_dir else None

    def _from_disk(self, host: str, name: str) -> x509.Certificate | None:
        path = self._path(host, name)
        if path is None or not path.is_file():
            return None
        try:
            return load_certificate(path.read_bytes(), host)
        except ValueError as error:
            raise SnsRefused(502, "bad_cert", f"cached certificate {path}: {error}") from None

    def _fetch(self, host: str, name: str) -> x509.Certificate:
        url = f"https://{host}/{name}"
        try:
            body = self._download(url)
            certificate = load_certificate(body, host)
        except (httpx.HTTPError, ValueError) as error:
            raise SnsRefused(502, "cert_fetch_failed",
                           f"could not fetch the signing certificate: {error}") from None
        self._save(host, name, body)
        return certificate

    def _download(self, url: str) -> bytes:
        with self.client.stream("GET", url, follow_redirects=False, timeout=5.0) as response:
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_CERT:
                    raise ValueError("certificate larger than 64 KiB")
                chunks.append(chunk)
        return b"".join(chunks)

    def _save(self, host: str, name: str, body: bytes) -> None:
        path = self._path(host, name)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(body)
        os.replace(tmp.name, path)


def confirm_subscription(client: httpx.Client, subscribe_url: str) -> Any:
    """GET the (already checked) SubscribeURL: no redirects, 10 s; 502 if SNS does not say OK."""
    try:
        response = client.get(subscribe_url, follow_redirects=False, timeout=10.0)
    except httpx.HTTPError as error:
        raise SnsRefused(502, "confirm_failed",
                         f"subscription confirmation failed: {error}") from None
    if response.status_code != 200:
        raise SnsRefused(502, "confirm_failed",
                       f"subscription confirmation answered HTTP {response.status_code}")
    return response
