"""Real HTTP endpoints standing in for SES: moto's server, and a scripted stdlib server.

The scripted server speaks the SES v2 REST-JSON wire format for ``SendEmail`` only. It answers
each request with the next scripted error (then success) and records when each request arrived,
so tests can count calls, see retries and measure the send rate on the server's side.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from adapters.ses import ses_client

FROM = "news@example.com"


def moto_messages(endpoint: str) -> list[dict[str, Any]]:
    """Every message moto's SES received, read over HTTP from its data endpoint."""
    data = httpx.get(f"{endpoint}/moto-api/data.json", timeout=5).json()
    return list(data.get("ses", {}).get("Message", []))


def moto_recipients(endpoint: str) -> list[str]:
    return [a for m in moto_messages(endpoint) for a in m["destinations"]["ToAddresses"]]


def reset_moto(endpoint: str, verified: Iterable[str] = (FROM,)) -> None:
    httpx.post(f"{endpoint}/moto-api/reset", timeout=5).raise_for_status()
    client = ses_client("us-east-1", endpoint)
    for identity in verified:
        client.create_email_identity(EmailIdentity=identity)


class ScriptedSes:
    """``script`` holds ``(status, error code)`` pairs answered in order; then 200s."""

    def __init__(self, script: Iterable[tuple[int, str]] = ()) -> None:
        self.script = list(script)
        self.arrivals: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.bodies.append(body)
            count = len(self.arrivals)
            if self.script:
                status, code = self.script.pop(0)
                return (status, {"__type": code, "message": f"scripted {code}"},
                        {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"})
        return 200, {"MessageId": f"scripted-{count}"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, payload, headers = fake._next(json.loads(raw or b"{}"))
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def send_from_child(settings: dict[str, Any], recipients: list[str], start: Any) -> None:
    """A separate process sending through its own services (and so its own rate limiter)."""
    from adapters.send_validation import OutgoingMessage
    from api.services import build_services
    from api.settings import Settings

    services = build_services(Settings(**settings))
    try:
        client = services.email()
        start.wait(timeout=60)
        client.send(OutgoingMessage(from_address=FROM, to=recipients, subject="rate",
                                    text="hello"))
    finally:
        services.close()
