"""SES v2 ``SendEmail``, translated: one message to one recipient, and SES's answer.

https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html — one call per
recipient, so every bounce, complaint and delivery maps back to exactly one address. Error codes:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html (throttling) and the
``SendEmail`` page (``MessageRejected``, ``AccountSendingPausedException``,
``MailFromDomainNotVerifiedException``, ...). Which recipients are sent and what is recorded is
decided by ``application.sending``; this module only calls SES.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.rate_limit import RateLimiter
from adapters.send_validation import ValidMessage

THROTTLED = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException",
                       "LimitExceededException"})
# The whole account cannot send: no other recipient can be sent either.
ACCOUNT_PAUSED = "AccountSendingPausedException"


@dataclass(frozen=True)
class Delivery:
    """SES's answer for one recipient: its message id, or why it was not sent (``error``,
    ``"Code: message"``); ``account_paused`` when SES refuses every message of the account."""

    message_id: str | None
    error: str | None = None
    account_paused: bool = False


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter for throttled calls."""

    attempts: int = 4
    base: float = 0.1
    cap: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def pause(self, attempt: int) -> None:
        self.sleep(random.uniform(0, min(self.cap, self.base * 2 ** attempt)))


def ses_client(region: str, endpoint_url: str | None = None) -> Any:
    """A boto3 ``sesv2`` client; botocore's own retries are off (the callers retry)."""
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=15)
    return boto3.session.Session().client("sesv2", region_name=region,
                                          endpoint_url=endpoint_url or None, config=config)


class SesTransport:
    """``SendEmail`` for one recipient at a time, within the shared send rate; throttling is
    retried with backoff, anything else is answered as it came."""

    def __init__(self, ses: Any, limiter: RateLimiter, *, configuration_set: str | None = None,
                 backoff: Backoff | None = None) -> None:
        self.ses, self.limiter = ses, limiter
        self.configuration_set = configuration_set or None
        self.backoff = backoff or Backoff()

    def deliver(self, message: ValidMessage, recipient: str) -> Delivery:
        """One ``SendEmail`` to ``recipient`` (retried while SES throttles)."""
        request = self._request(message, recipient)
        for attempt in range(self.backoff.attempts):
            self.limiter.acquire()
            try:
                return Delivery(str(self.ses.send_email(**request)["MessageId"]))
            except ClientError as error:
                code, text = _error(error)
                if code not in THROTTLED or attempt == self.backoff.attempts - 1:
                    suffix = f" (after {attempt + 1} attempts)" if code in THROTTLED else ""
                    return Delivery(None, f"{code}: {text}{suffix}", code == ACCOUNT_PAUSED)
                self.backoff.pause(attempt)
            except BotoCoreError as error:
                # Not retried: after a timeout SES may have sent it; a retry could send twice.
                return Delivery(None, f"{type(error).__name__}: {error}")
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.ses.close()

    def _request(self, valid: ValidMessage, address: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if valid.text is not None:
            body["Text"] = {"Data": valid.text, "Charset": "UTF-8"}
        if valid.html is not None:
            body["Html"] = {"Data": valid.html, "Charset": "UTF-8"}
        request: dict[str, Any] = {
            "FromEmailAddress": valid.from_address,
            "Destination": {"ToAddresses": [address]},
            "Content": {"Simple": {"Subject": {"Data": valid.subject, "Charset": "UTF-8"},
                                   "Body": body}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        return request


def _error(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code") or "Unknown"), str(details.get("Message") or error)
