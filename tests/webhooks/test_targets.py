"""Where a webhook may go: https outside development, public addresses only, no redirects,
and the connection made to the address that was checked (DNS rebinding)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.webhook_http import TargetRefused, WebhookSender, check_url, refusal, resolve
from api.services import build_services
from domain.errors import InvalidWebhook
from tests.conftest import make_settings
from tests.webhook_receiver import Receiver


def resolver_of(*answers: list[str]) -> Any:
    """A resolver answering each call with the next list of addresses (the last repeats)."""
    calls: list[str] = []

    def resolve_host(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        ips = answers[min(len(calls), len(answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    resolve_host.calls = calls  # type: ignore[attr-defined]
    return resolve_host


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("169.254.169.254", "link-local"), ("::1", "loopback"), ("fe80::1", "link-local"),
    ("::ffff:127.0.0.1", "loopback"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("100.64.0.1", "not globally routable"),
])
def test_non_public_addresses_are_named(address: str, why: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


def test_a_public_address_passes() -> None:
    assert refusal(ipaddress.ip_address("93.184.216.34")) is None


@pytest.mark.parametrize("url, message", [
    ("http://hooks.example.com/x", "must use https"),
    ("https://user:pw@hooks.example.com/x", "user name or password"),
    ("https://hooks.example.com/x#frag", "fragment"),
    ("ftp://hooks.example.com/x", "must use https"),
    ("https:///x", "no host"),
])
def test_urls_outside_the_rules_are_refused(url: str, message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        check_url(url, https_only=True)


def test_every_resolved_address_is_checked() -> None:
    both = resolver_of(["93.184.216.34", "10.0.0.5"])
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.5 \(private\)"):
        resolve("hooks.example.com", 443, allow_private=False, resolver=both)


def test_registration_refuses_a_private_target_outside_development(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'l.db'}", environment="production",
                             secret_key="s" * 32)
    services = build_services(settings)
    try:
        assert services.webhooks is not None
        with pytest.raises(InvalidWebhook, match="must use https"):
            services.webhooks.add("http://hooks.example.com/x", ["address.blocked"],
                                  actor="t")
        with pytest.raises(InvalidWebhook, match="loopback"):
            services.webhooks.add("https://127.0.0.1/x", ["address.blocked"], actor="t")
    finally:
        services.close()


def test_webhook_allow_private_admits_private_targets(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'l.db'}", environment="production",
                             secret_key="s" * 32, webhook_allow_private=True)
    services = build_services(settings)
    try:
        assert services.webhooks is not None
        services.webhooks.add("https://127.0.0.1/x", ["address.blocked"], actor="t")
    finally:
        services.close()


def test_a_name_that_turns_private_after_the_check_is_refused() -> None:
    """DNS rebinding: public when registered, loopback when delivered → no request."""
    receiver = Receiver()
    rebinding = resolver_of(["93.184.216.34"], ["127.0.0.1"])
    try:
        resolve("hooks.example.com", 80, allow_private=False, resolver=rebinding)
        sender = WebhookSender(timeout_s=1, allow_private=False, https_only=False,
                               resolver=rebinding)
        outcome = sender.post(f"http://hooks.example.com:{receiver.port}/hooks", b"{}", {})
        assert outcome.status is None and "127.0.0.1 (loopback)" in (outcome.error or "")
        assert receiver.received == []
    finally:
        receiver.close()


def test_the_connection_goes_to_the_checked_address_under_the_host_name() -> None:
    receiver = Receiver()
    fixed = resolver_of(["127.0.0.1"])
    try:
        sender = WebhookSender(timeout_s=2, allow_private=True, https_only=False,
                               resolver=fixed)
        outcome = sender.post(f"http://hooks.test:{receiver.port}/hooks", b"{}", {})
        assert outcome.delivered
        assert receiver.received[0].headers["host"] == f"hooks.test:{receiver.port}"
        assert fixed.calls == ["hooks.test"]
    finally:
        receiver.close()


def test_redirects_are_not_followed() -> None:
    receiver = Receiver([302])
    try:
        sender = WebhookSender(timeout_s=2, allow_private=True, https_only=False)
        outcome = sender.post(receiver.url, b"{}", {})
        assert outcome.status == 302 and "redirects are not followed" in (outcome.error or "")
        assert len(receiver.received) == 1
    finally:
        receiver.close()


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    cert, key = certificate(tmp_path, "hooks.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    receiver = Receiver(ssl_context=context)
    yield receiver, cert
    receiver.close()


def test_https_verifies_the_certificate_against_the_host_name(
        tls_receiver: tuple[Receiver, Path]) -> None:
    receiver, cert = tls_receiver
    trusting = ssl.create_default_context(cafile=str(cert))
    sender = WebhookSender(timeout_s=2, allow_private=True, https_only=True,
                           resolver=resolver_of(["127.0.0.1"]), ssl_context=trusting)
    assert sender.post(f"https://hooks.test:{receiver.port}/hooks", b"{}", {}).delivered
    wrong_name = sender.post(f"https://other.test:{receiver.port}/hooks", b"{}", {})
    assert not wrong_name.delivered and "CERTIFICATE_VERIFY_FAILED" in (wrong_name.error or "")
    sender.close()
