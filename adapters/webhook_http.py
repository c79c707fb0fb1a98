"""Posting one signed webhook delivery, with care for server-side request forgery.

An admin chooses the URL, so the URL must not be a way into our own network: ``https`` only
outside development, no user info, redirects never followed, and every address the host
resolves to is checked — private, loopback, link-local, shared, reserved and multicast
ranges are refused unless ``WEBHOOK_ALLOW_PRIVATE``. The connection then goes to the very
address that was checked (the URL is rewritten to the IP; ``Host`` and TLS SNI keep the
name, and the certificate is verified against the name), so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

Resolver = Callable[..., list[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL = 2000


class TargetRefused(Exception):
    """The URL or the addresses it resolves to are not allowed as a webhook target."""


def check_url(url: str, *, https_only: bool) -> SplitResult:
    """The parsed URL, or ``TargetRefused`` saying what is wrong with it."""
    text = url.strip()
    if not text or len(text) > MAX_URL:
        raise TargetRefused(f"the URL must be 1 to {MAX_URL} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"not a valid URL: {error}") from None
    allowed = ("https",) if https_only else ("https", "http")
    if parts.scheme not in allowed:
        raise TargetRefused("the URL must use https" + ("" if https_only else " or http"))
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not contain a user name or password")
    if parts.fragment:
        raise TargetRefused("the URL must not contain a fragment (#...)")
    if port == 0:
        raise TargetRefused("the URL's port must be 1 to 65535")
    return parts


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or ``None`` when it is."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        return refusal(mapped)
    for kind in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "not globally routable"


def resolve(host: str, port: int, *, allow_private: bool,
            resolver: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    """Every address of ``host``; ``TargetRefused`` if any is not allowed (checking only the
    one we connect to would let a host answer a public and a private address)."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = resolver(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, ValueError) as error:
            raise TargetRefused(f"cannot resolve {host!r}: {error}") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0])
                                       for info in infos))
    if not addresses:
        raise TargetRefused(f"{host} has no address")
    if not allow_private:
        for ip in addresses:
            why = refusal(ip)
            if why is not None:
                raise TargetRefused(f"{host} resolves to {ip} ({why}); private targets need "
                                    "BOUNCELEDGER_WEBHOOK_ALLOW_PRIVATE")
    return addresses


@dataclass(frozen=True)
class Outcome:
    """One attempt: the status code (``None`` without an answer), an error text, the time
    taken and a ``Retry-After`` in seconds when the receiver asked for one."""

    status: int | None
    error: str | None
    latency_s: float
    retry_after_s: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender:
    """Posts bodies to checked addresses; one connection pool per host name (the pool is
    keyed by IP, and a pooled TLS connection must only serve the name it was verified for)."""

    def __init__(self, *, timeout_s: float, allow_private: bool, https_only: bool,
                 resolver: Resolver = socket.getaddrinfo,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout_s, self.allow_private, self.https_only = timeout_s, allow_private, https_only
        self.resolver = resolver
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            parts = check_url(url, https_only=self.https_only)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname or ""
            ip = resolve(host, port, allow_private=self.allow_private,
                         resolver=self.resolver)[0]
        except TargetRefused as refused:
            return Outcome(None, f"refused: {refused}", time.monotonic() - started)
        return self._send(parts, host, port, ip, body, headers, started)

    def _send(self, parts: SplitResult, host: str, port: int, ip: IPAddress, body: bytes,
              headers: Mapping[str, str], started: float) -> Outcome:
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        target = parts._replace(netloc=f"{literal}:{port}").geturl()
        default_port = port == (443 if parts.scheme == "https" else 80)
        host_header = _host_header(host) + ("" if default_port else f":{port}")
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            with self._client(host).stream(
                    "POST", target, content=body, extensions=extensions,
                    headers={**headers, "host": host_header,
                             "content-type": "application/json",
                             "user-agent": "bounceledger-webhooks/1"}) as response:
                snippet = _first_bytes(response)
        except httpx.HTTPError as error:
            return Outcome(None, f"{type(error).__name__}: {error}"[:300],
                           time.monotonic() - started)
        return _answer(response, snippet, time.monotonic() - started)

    def _client(self, host: str) -> httpx.Client:
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                client = httpx.Client(verify=self.ssl_context, follow_redirects=False,
                                      trust_env=False, timeout=self.timeout_s,
                                      limits=httpx.Limits(max_keepalive_connections=4))
                self._clients[host] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def _host_header(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _first_bytes(response: httpx.Response, limit: int = 200) -> str:
    """The start of the answer, for the delivery log (the rest is not read)."""
    for chunk in response.iter_raw():
        return chunk[:limit].decode("utf-8", "replace")
    return ""


def _answer(response: httpx.Response, snippet: str, latency: float) -> Outcome:
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, None, latency)
    error = f"HTTP {response.status_code}"
    if 300 <= response.status_code < 400:
        error += f" (redirects are not followed: {response.headers.get('location', '')})"
    elif snippet.strip():
        error += f": {snippet.strip()}"
    return Outcome(response.status_code, error[:300], latency,
                   _retry_after(response.headers.get("retry-after")))


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
