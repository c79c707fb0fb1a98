"""From a verified SNS (or SQS) message to committed events: the webhook's and worker's core.

Nothing is acknowledged before the commit: ``handle_sns`` returns only after the group
committer has saved the reports (or raises, which the caller turns into a 5xx/4xx). What a
message leads to is decided here — confirm a subscription or not, refuse another account's
mail, acknowledge what cannot be read — and counted through ``Counters`` (Prometheus in
``api.metrics``); the webhook route and the SQS worker only hand messages in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from adapters.ses_events import MessageInfo, SesMessage, SesPayloadError, read_ses
from adapters.sns import SnsMessage, SnsRefused, SnsVerifier, check_subscribe_url
from domain.reports import Report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What happened to one message; ``outcome`` is also the metrics label."""

    outcome: str
    kind: str | None = None
    recorded: int = 0
    duplicates: int = 0

    def body(self) -> dict[str, object]:
        return {"outcome": self.outcome, "kind": self.kind, "recorded": self.recorded,
                "duplicates": self.duplicates}


@dataclass
class _Notification:
    """An SES notification waiting for the committer's message-map lookup."""

    read: SesMessage
    skipped: int = 0

    @property
    def message_id(self) -> str | None:
        return self.read.message_id

    def reports(self, info: MessageInfo | None) -> list[Report]:
        parsed = self.read.parse(info)
        self.skipped = len(parsed.skipped)
        return parsed.reports


class Committer(Protocol):
    """Commits a notification's reports once the message map is read (``api.group_commit``);
    one result per report, ``False`` for a duplicate."""

    def submit(self, work: _Notification) -> list[bool]: ...


def _uncounted(*labels: object) -> None:
    pass


@dataclass(frozen=True)
class Counters:
    """Where ingest counts: ``message(path, outcome)`` per SNS/SQS message and
    ``reports(kind, result, count)`` per notification (nothing by default)."""

    message: Callable[[str, str], None] = _uncounted
    reports: Callable[[str, str, int], None] = _uncounted


class Ingest:
    def __init__(self, verifier: SnsVerifier, committer: Committer,
                 confirm: Callable[[str], object] | None,
                 account_ids: Collection[str] = (), counters: Counters | None = None) -> None:
        self.verifier, self.committer = verifier, committer
        self.confirm, self.account_ids = confirm, set(account_ids)
        self.count = counters or Counters()

    def handle_sns(self, body: bytes, header_type: str | None = None, *, path: str = "sns",
                   check_age: bool = True) -> Outcome:
        """Verify, then act on one SNS message (SPEC §6); ``SnsRefused`` for a refusal."""
        try:
            message = self.verifier.verify(body, header_type, check_age=check_age)
            outcome = self._act(message, path)
        except SnsRefused as refusal:
            self.count.message(path, refusal.code)
            raise
        self.count.message(path, outcome.outcome)
        return outcome

    def _act(self, message: SnsMessage, path: str) -> Outcome:
        if message.type == "SubscriptionConfirmation":
            return self._confirm(message)
        if message.type == "UnsubscribeConfirmation":
            log.warning("SNS unsubscribed us from %s; not re-subscribing", message.topic_arn)
            return Outcome("unsubscribed")
        return self.handle_ses(message.message, source=path)

    def _confirm(self, message: SnsMessage) -> Outcome:
        url = check_subscribe_url(message.subscribe_url or "", message.topic_arn)
        if self.confirm is None:
            log.warning("subscription to %s not confirmed: BOUNCELEDGER_SNS_AUTO_CONFIRM is "
                        "off", message.topic_arn)
            return Outcome("confirmation_skipped")
        self.confirm(url)
        log.info("confirmed the SNS subscription to %s", message.topic_arn)
        return Outcome("confirmed")

    def handle_ses(self, message: str, *, source: str) -> Outcome:
        """Record what an SES notification says (also the SQS raw-delivery path)."""
        try:
            read = read_ses(message, source=source)
        except SesPayloadError as error:
            log.warning("acknowledged an unreadable SES message: %s", error)
            return Outcome("unreadable")
        if self.account_ids and read.account_id not in self.account_ids:
            raise SnsRefused(403, "account_not_allowed",
                             "mail.sendingAccountId is not in BOUNCELEDGER_SES_ACCOUNT_IDS")
        if read.note is None:
            return Outcome(read.kind, read.kind)
        pending = _Notification(read)
        try:
            results = self.committer.submit(pending)
        except SesPayloadError as error:
            log.warning("acknowledged an unreadable SES message: %s", error)
            return Outcome("unreadable")
        if pending.skipped:
            log.warning("skipped %d invalid recipient address(es)", pending.skipped)
        recorded = sum(results)
        self.count.reports(read.kind, "recorded", recorded)
        self.count.reports(read.kind, "duplicate", len(results) - recorded)
        if not results:
            return Outcome("accepted", read.kind)
        return Outcome("accepted" if recorded else "duplicate", read.kind, recorded,
                       len(results) - recorded)
