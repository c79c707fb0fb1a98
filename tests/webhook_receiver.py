"""A real HTTP receiver for outgoing webhooks: a threaded stdlib server on 127.0.0.1.

It records every request (headers, raw body, arrival time) and answers from a plan: each
entry is used for one request, then 200. An entry is a status code, ``("slow", seconds)``
(answer 200 after a pause), or ``"hold"`` (wait until ``release()``, then 200).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = int | tuple[str, float] | str


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, plan: Iterable[Step] = (), ssl_context: ssl.SSLContext | None = None,
                 port: int = 0) -> None:
        self.plan: list[Step] = list(plan)
        self.received: list[Received] = []
        self.answered: list[tuple[str, int]] = []
        self._lock, self._gate = threading.Lock(), threading.Event()
        self.holding = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self._gate.set()

    def close(self) -> None:
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(list(self.received)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"receiver: condition not met in {timeout}s; got "
                             f"{[r.json()['type'] for r in self.received]}")

    def wait_count(self, count: int, timeout: float = 20.0) -> None:
        self.wait_for(lambda got: len(got) >= count, timeout)

    def _step(self, received: Received) -> Step:
        with self._lock:
            self.received.append(received)
            return self.plan.pop(0) if self.plan else 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                step = receiver._step(Received(headers, body, time.monotonic()))
                status = receiver._behave(step)
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver._lock:
                    receiver.answered.append((headers.get("webhook-id", ""), status))

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _behave(self, step: Step) -> int:
        if isinstance(step, int):
            return step
        if step == "hold":
            self.holding.set()
            self._gate.wait(60)
            return 200
        if isinstance(step, tuple) and step[0] == "slow":
            time.sleep(step[1])
        return 200
