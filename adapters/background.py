"""One background loop for the service's threads (the follower, the webhook dispatcher, the
SES pusher, the webhook-listeners refresh).

A daemon thread runs ``step`` again and again: after ``interval`` seconds, sooner when woken
(new work was committed), or after the number of seconds ``step`` returns. A store outage is
one warning line and the loop goes on; any other error is logged with its traceback and the
loop goes on too — a background thread never dies of one bad turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from adapters.sql import StoreUnavailable

log = logging.getLogger(__name__)


class Loop:
    """``start``, ``wake``, ``stop``; ``step`` may return how long to wait before the next."""

    def __init__(self, name: str, step: Callable[[], float | None], interval: float, *,
                 wake: threading.Event | None = None, quiet: bool = False) -> None:
        self.name, self.step, self.interval, self.quiet = name, step, interval, quiet
        self._wake, self._stop = wake or threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """New work was committed: run the next turn now."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            wait: float | None = None
            try:
                wait = self.step()
            except StoreUnavailable as error:
                log.warning("%s: store unavailable: %s", self.name, error)
            except Exception as error:
                if self.quiet:
                    log.debug("%s: %s", self.name, error)
                else:
                    log.exception("%s failed; retrying", self.name)
            if wait is None or wait > 0:
                self._wake.wait(self.interval if wait is None else wait)
            self._wake.clear()
