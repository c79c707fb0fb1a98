"""Sending through SES v2 ``SendEmail`` after the ledger's pre-check.

https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html — one call per
recipient, so every bounce, complaint and delivery maps back to exactly one address. Error codes:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html (throttling) and the
``SendEmail`` page (``MessageRejected``, ``AccountSendingPausedException``,
``MailFromDomainNotVerifiedException``, ...).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.rate_limit import RateLimiter, rate_limiter
from adapters.send_validation import OutgoingMessage, ValidMessage, validate
from domain.errors import SenderPaused
from domain.ledger import Ledger
from domain.policy import OK
from domain.reports import Blocked, Sent
from domain.sender import PAUSED

if TYPE_CHECKING:
    from api.services import Services
    from projections.senders import SenderReader
    from projections.status_mirror import StatusLookup

log = logging.getLogger(__name__)

SENT, BLOCKED, FAILED = "sent", "blocked", "failed"
THROTTLED = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException",
                       "LimitExceededException"})
# The whole account cannot send: the remaining recipients fail without another call.
ACCOUNT_PAUSED = "AccountSendingPausedException"


@dataclass(frozen=True)
class RecipientResult:
    """What happened to one recipient: ``sent`` (message_id), ``blocked`` or ``failed`` (reason).

    ``status`` is the address's email_status at the pre-check.
    """

    address: str
    result: str
    status: str
    message_id: str | None = None
    reason: str | None = None
    profile_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "result": self.result, "status": self.status,
                "message_id": self.message_id, "reason": self.reason,
                "profile_id": self.profile_id}


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
    """A boto3 ``sesv2`` client; botocore's own retries are off (``EmailClient`` retries)."""
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=15)
    return boto3.session.Session().client("sesv2", region_name=region,
                                          endpoint_url=endpoint_url or None, config=config)


class EmailClient:
    """Pre-checks every recipient, records blocked ones, sends the rest one by one through SES.

    >>> client = EmailClient.from_services(services)
    >>> client.send(OutgoingMessage("news@example.com", ["a@example.org"], "Hi", text="..."))
    """

    def __init__(self, statuses: StatusLookup, ledger: Ledger, ses: Any, limiter: RateLimiter,
                 *, senders: SenderReader | None = None, configuration_set: str | None = None,
                 backoff: Backoff | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.statuses, self.ledger, self.ses, self.limiter = statuses, ledger, ses, limiter
        self.senders, self.configuration_set = senders, configuration_set or None
        self.backoff, self.clock = backoff or Backoff(), clock

    @classmethod
    def from_services(cls, services: Services, ses: Any | None = None) -> EmailClient:
        """Built from the settings: region, endpoint, configuration set, shared rate limit."""
        settings = services.settings
        return cls(services.statuses, services.ledger,
                   ses or ses_client(settings.aws_region, settings.aws_endpoint_url),
                   rate_limiter(settings.ses_max_send_rate, services.redis,
                                settings.redis_prefix),
                   senders=services.senders, configuration_set=settings.ses_configuration_set)

    def send(self, message: OutgoingMessage, *, source: str = "api") -> list[RecipientResult]:
        """Validate, refuse a paused sender, pre-check, send the sendable, record everything.

        Raises ``InvalidMessage``/``InvalidAddress`` (nothing looked up) or ``SenderPaused``
        (nothing sent). Returns one result per recipient in input order, after the commit.
        """
        valid = validate(message)
        self._refuse_paused(valid)
        known = self.statuses.statuses(valid.recipients)
        results: list[RecipientResult] = []
        reports: list[Sent | Blocked] = []
        paused: str | None = None  # set once SES says the whole account is paused
        for address, profile_id in zip(valid.recipients, valid.profile_ids, strict=True):
            line = known.get(address)
            status, why = (line.status, line.reason) if line else (OK, None)
            if line is not None and not line.sendable:
                results.append(RecipientResult(address, BLOCKED, status, reason=why,
                                               profile_id=profile_id))
                reports.append(Blocked(address, status, self.clock(), source, why,
                                       valid.sender, profile_id))
                continue
            message_id, reason, code = self._deliver(valid, address) if paused is None \
                else (None, paused, ACCOUNT_PAUSED)
            paused = reason if code == ACCOUNT_PAUSED else None
            results.append(RecipientResult(address, SENT if message_id else FAILED, status,
                                           message_id, reason, profile_id))
            if message_id:
                reports.append(Sent(address, message_id, self.clock(), source, valid.sender,
                                    profile_id))
        self._record(reports)
        return results

    def _refuse_paused(self, valid: ValidMessage) -> None:
        """The named sender and the from-domain (itself a sender: the default one) must both
        be unpaused, or naming another sender would walk around a pause."""
        if self.senders is None:
            return
        for sender in dict.fromkeys((valid.sender, valid.from_normalized.rpartition("@")[2])):
            state = self.senders.state(sender)
            if state["state"] == PAUSED:
                detail = f" ({state['detail']})" if state.get("detail") else ""
                raise SenderPaused(f"sender {sender!r} is paused by rule {state['rule']}"
                                   f"{detail}; an admin must resume it before it sends again")

    def _deliver(self, valid: ValidMessage, address: str) -> tuple[str | None, str | None, str]:
        """One recipient: ``(message_id, None, "")`` or ``(None, reason, error code)``."""
        request = self._request(valid, address)
        for attempt in range(self.backoff.attempts):
            self.limiter.acquire()
            try:
                return str(self.ses.send_email(**request)["MessageId"]), None, ""
            except ClientError as error:
                code, text = _error(error)
                if code not in THROTTLED or attempt == self.backoff.attempts - 1:
                    suffix = f" (after {attempt + 1} attempts)" if code in THROTTLED else ""
                    return None, f"{code}: {text}{suffix}", code
                self.backoff.pause(attempt)
            except BotoCoreError as error:
                # Not retried: after a timeout SES may have sent it; a retry could send twice.
                return None, f"{type(error).__name__}: {error}", type(error).__name__
        raise AssertionError("unreachable")  # pragma: no cover

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

    def _record(self, reports: Sequence[Sent | Blocked]) -> None:
        if not reports:
            return
        try:
            self.ledger.record(*reports)
        except Exception:
            # SES has already taken these; later reports still map through their own addresses.
            # Message ids only: a log line must not carry an address.
            sent = [r.message_id for r in reports if isinstance(r, Sent)]
            log.error("sent but not recorded (store failed): SES message ids %s", sent)
            raise


def _error(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code") or "Unknown"), str(details.get("Message") or error)
