"""A scripted SES v2 endpoint for the account-level suppression list (moto lacks it).

It speaks the real REST-JSON wire protocol that boto3's ``sesv2`` client uses:
``PUT /v2/email/suppression/addresses`` (PutSuppressedDestination),
``GET /v2/email/suppression/addresses?StartDate=&NextToken=&PageSize=``
(ListSuppressedDestinations, paged), ``GET``/``DELETE
/v2/email/suppression/addresses/{email}`` (Get/DeleteSuppressedDestination, 404
``NotFoundException`` when absent). ``throttle`` makes the next N calls answer 429
``TooManyRequestsException``; ``hold_on`` makes one call wait until released. Every call is
logged; a held call counts as not acknowledged (its caller is killed meanwhile).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

BASE = "/v2/email/suppression/addresses"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    status: int = 0
    acknowledged: bool = False
    held: bool = False  # answered only after the caller was killed: never acknowledged

    @property
    def operation(self) -> str:
        if self.path == BASE:
            return "Put" if self.method == "PUT" else "List"
        return {"GET": "Get", "DELETE": "Delete"}.get(self.method, "?")

    @property
    def address(self) -> str:
        if self.path == BASE:
            return str(self.body.get("EmailAddress", ""))
        return unquote(self.path[len(BASE) + 1:])


@dataclass
class Entry:
    address: str
    reason: str
    updated: datetime


@dataclass
class ScriptedSuppressionList:
    """The list itself plus the script; ``endpoint`` is for ``AWS_ENDPOINT_URL``."""

    page_size: int = 2
    entries: dict[str, Entry] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    throttle: int = 0
    hold_on: str | None = None  # "Put:<address>" or "Delete:<address>"
    released: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def add(self, address: str, reason: str, updated: datetime) -> None:
        self.entries[address] = Entry(address, reason, updated)

    def acknowledged(self, operation: str) -> list[str]:
        return [c.address for c in self.calls if c.operation == operation and c.acknowledged]

    def answer(self, call: Call) -> tuple[int, dict[str, Any], str | None]:
        with self._lock:
            self.calls.append(call)
            if self.throttle:
                self.throttle -= 1
                return 429, {"message": "Maximum sending rate exceeded."}, \
                    "TooManyRequestsException"
        if self.hold_on == f"{call.operation}:{call.address}":
            self.hold_on = None
            call.held = True
            self.holding.set()
            self.released.wait(30)
        with self._lock:
            return self._operate(call)

    def _operate(self, call: Call) -> tuple[int, dict[str, Any], str | None]:
        if call.operation == "Put":
            self.add(call.address, call.body["Reason"], datetime.now(UTC))
            return 200, {}, None
        if call.operation == "List":
            return 200, self._page(call.query), None
        entry = self.entries.get(call.address)
        if entry is None:
            return 404, {"message": f"{call.address} is not on the suppression list"}, \
                "NotFoundException"
        if call.operation == "Delete":
            del self.entries[call.address]
            return 200, {}, None
        return 200, {"SuppressedDestination": _summary(entry)}, None

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        start = _instant(query.get("StartDate"))
        chosen = sorted((e for e in self.entries.values() if start is None or e.updated >= start),
                        key=lambda e: (e.updated, e.address))
        offset = int(query.get("NextToken") or 0)
        size = min(int(query.get("PageSize") or self.page_size), self.page_size)
        page = chosen[offset:offset + size]
        answer: dict[str, Any] = {"SuppressedDestinationSummaries": [_summary(e) for e in page]}
        if offset + size < len(chosen):
            answer["NextToken"] = str(offset + size)
        return answer


def _summary(entry: Entry) -> dict[str, Any]:
    return {"EmailAddress": entry.address, "Reason": entry.reason,
            "LastUpdateTime": entry.updated.timestamp()}


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _handler(fake: ScriptedSuppressionList) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            call = Call(self.command, parts.path,
                        {k: v[0] for k, v in parse_qs(parts.query).items()},
                        json.loads(raw) if raw else {})
            status, payload, error = fake.answer(call)
            data = json.dumps(payload).encode()
            call.status = status
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", f"{error}:http://internal.amazon.com/")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                call.acknowledged = status == 200 and not call.held
            except OSError:
                call.acknowledged = False

        do_GET = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler

