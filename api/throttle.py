"""Counting failures per client, for the console login and for API bearer tokens.

Tokens are 256 random bits, so a throttle is not what stops guessing; it keeps a script from
hammering the token lookup and makes a burst of failures visible (429 and a log line). The
client is the peer address uvicorn reports, which is the forwarded client only when the peer
is one of ``FORWARDED_ALLOW_IPS`` (SPEC §8); IPv6 clients count per /64, the block one host
gets. Per process: several processes each allow ``limit``.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.requests import HTTPConnection


def client_key(connection: HTTPConnection) -> str:
    """The client's address as the throttles count it (an IPv6 address by its /64)."""
    host = connection.client.host if connection.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class FailureThrottle:
    """At most ``limit`` failures per client within ``window_s`` seconds, for
    ``max_clients`` clients at most (the oldest are forgotten first)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 100_000) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client) or deque()
        while failures and failures[0] <= self.clock() - self.window_s:
            failures.popleft()
        return failures

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client)) >= self.limit

    def failed(self, client: str) -> bool:
        """Count a failure; True when this one reaches the limit (worth one log line)."""
        with self._lock:
            failures = self._recent(client)
            failures.append(self.clock())
            self._failures[client] = failures
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            return len(failures) == self.limit

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
