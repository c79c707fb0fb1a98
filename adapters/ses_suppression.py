"""SES v2's account-level suppression list: put, delete and list, rate-limited and retried.

https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutSuppressedDestination.html,
``DeleteSuppressedDestination`` (``NotFoundException`` when the address is not listed) and
``ListSuppressedDestinations`` (``StartDate``, ``NextToken``, ``PageSize`` up to 1000).
Every call first takes a token from the shared bucket (``adapters/rate_limit.py``, its own
key, ``SES_SYNC_RATE`` per second); throttling is retried with backoff and full jitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.rate_limit import RateLimiter
from adapters.ses import THROTTLED, Backoff

PAGE_SIZE = 1000


class SesSyncError(Exception):
    """A suppression-list call failed (after the throttling retries): try again later."""


@dataclass(frozen=True)
class Page:
    """One page of SES's list: raw summaries, and the token of the next page if any."""

    summaries: list[dict[str, Any]]
    next_token: str | None


class SuppressionList:
    """The three calls, translated; ``observe(operation, outcome)`` counts them."""

    def __init__(self, ses: Any, limiter: RateLimiter, backoff: Backoff | None = None,
                 observe: Callable[[str, str], None] = lambda op, outcome: None) -> None:
        self.ses, self.limiter, self.observe = ses, limiter, observe
        self.backoff = backoff or Backoff(attempts=6, base=0.2, cap=5.0)

    def put(self, address: str, reason: str) -> None:
        self._call("PutSuppressedDestination", self.ses.put_suppressed_destination,
                    EmailAddress=address, Reason=reason)

    def delete(self, address: str) -> bool:
        """``False`` when SES did not have the address (nothing to delete)."""
        try:
            self._call("DeleteSuppressedDestination",
                       self.ses.delete_suppressed_destination, EmailAddress=address)
        except _NotListed:
            return False
        return True

    def page(self, start: datetime | None, token: str | None,
             size: int = PAGE_SIZE) -> Page:
        arguments: dict[str, Any] = {"PageSize": size}
        if start is not None:
            arguments["StartDate"] = start
        if token:
            arguments["NextToken"] = token
        answer = self._call("ListSuppressedDestinations",
                            self.ses.list_suppressed_destinations, **arguments)
        return Page(list(answer.get("SuppressedDestinationSummaries", [])),
                    answer.get("NextToken") or None)

    def _call(self, operation: str, method: Callable[..., Any], **arguments: Any) -> Any:
        for attempt in range(self.backoff.attempts):
            self.limiter.acquire()
            try:
                answer = method(**arguments)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "NotFoundException" and operation.startswith("Delete"):
                    self.observe(operation, "not_found")
                    raise _NotListed from None
                if code in THROTTLED and attempt < self.backoff.attempts - 1:
                    self.observe(operation, "throttled")
                    self.backoff.pause(attempt)
                    continue
                self.observe(operation, "error")
                raise SesSyncError(f"{operation}: {code or 'error'}: "
                                   f"{error.response.get('Error', {}).get('Message', '')}"
                                   ) from None
            except BotoCoreError as error:
                self.observe(operation, "error")
                raise SesSyncError(f"{operation}: {type(error).__name__}: {error}") from None
            self.observe(operation, "ok")
            return answer
        raise AssertionError("unreachable")  # pragma: no cover


class _NotListed(Exception):
    pass
