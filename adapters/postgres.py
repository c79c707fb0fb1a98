"""The event store's PostgreSQL recorder, with a retry budget that fits an HTTP answer.

The library retries a failed call ten times, each waiting up to the connect timeout: with
PostgreSQL down a webhook would hang for a minute, past SNS's 15-second timeout, instead of
answering 503 so SNS retries later. This recorder keeps the library's SQL (and its table lock,
so notification ids still commit in order) and allows two quick attempts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder

_base = PostgresApplicationRecorder


def _budget(method: Callable[..., Any]) -> Callable[..., Any]:
    """Two attempts; between them the pool drops every idle connection that broke (the
    library's pool no longer pings on checkout)."""
    @functools.wraps(method)
    def attempt(self: FastFailRecorder, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (InterfaceError, OperationalError):
            self.datastore.pool.check()
            time.sleep(0.05)
            return method(self, *args, **kwargs)

    return attempt


class FastFailRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` with two attempts per call instead of ten."""

    @_budget
    def insert_events(self, *args: Any, **kwargs: Any) -> Any:
        return _base.insert_events.__wrapped__(self, *args, **kwargs)  # type: ignore[attr-defined]

    @_budget
    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        return _base.select_events.__wrapped__(self, *args, **kwargs)  # type: ignore[attr-defined]

    @_budget
    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        return _base.select_notifications.__wrapped__(  # type: ignore[attr-defined]
            self, *args, **kwargs)

    @_budget
    def max_notification_id(self) -> Any:
        return _base.max_notification_id.__wrapped__(self)  # type: ignore[attr-defined]
