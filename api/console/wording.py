"""Plain words for statuses, the banner and the timeline (no HTML here: templates escape)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.failure_classes import CLASS_LABELS
from domain.policy import Policy
from domain.rejection_alerts import SENDER_CLASSES
from projections.base import parse_iso
from projections.queries import AddressStatus

STATUS_LABELS = {"ok": "OK", "soft_bounced": "Soft-bounced", "bounced": "Bounced",
                 "complained": "Complained", "suppressed": "Suppressed"}
FIELD_LABELS = {
    "bounce_type": "Bounce type", "bounce_subtype": "Subtype", "diagnostic": "Diagnostic",
    "status_code": "SMTP status", "action": "Action", "feedback_id": "Feedback id",
    "feedback_type": "Feedback type", "complaint_subtype": "Complaint subtype",
    "message_id": "Message id", "sender": "Sender", "actor": "Actor", "reason": "Reason",
    "consent": "Consent", "reporting_mta": "Reporting MTA", "smtp_response": "SMTP response",
    "profile_id": "Profile", "new_address": "New address", "old_address": "Old address",
    "user_agent": "User agent", "delay_type": "Delay type",
    "expiration_time": "Expires", "streak_since": "Streak since", "status": "Status",
    "failure_class": "Who failed (class)", "rule": "Classifier rule",
}
HIDDEN_FIELDS = frozenset({"source", "address", "id"})


@dataclass(frozen=True)
class Banner:
    """The sentence at the top of an address page: sendable or not, why, since when."""

    tone: str  # "ok", "warn" or "bad"
    headline: str
    detail: str
    advice: str


def when(value: str | datetime | None) -> str:
    """``2026-04-01 09:30 UTC`` (or an em dash)."""
    moment = parse_iso(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def banner(status: AddressStatus, policy: Policy, seen: bool) -> Banner:
    """Why the address is (not) sendable, in plain words."""
    if not seen:
        return Banner("ok", "Never seen: sendable.",
                      "No event has ever been recorded for this address.", "")
    since, reason = when(status["since"]), status["reason"]
    kind = status["status"]
    if kind == "ok":
        detail = (f"Reset on {since}." if status["since"] else "No bounce or complaint blocks it.")
        return Banner("ok", "Sendable.", detail, "")
    if kind == "soft_bounced":
        return Banner("warn", f"Sendable, but soft-bouncing since {since}.",
                      f"{policy.soft_bounce_limit} soft bounces within "
                      f"{policy.soft_bounce_window.days} days with no delivery between them, "
                      "or no delivery for "
                      f"{policy.transient_grace.days} days, will block it.",
                      "A delivery ends the streak; nothing to do yet.")
    return Banner("bad", f"Not sendable since {since}: {_why(reason, policy)}.",
                  _detail(status), _advice(kind))


def _why(reason: str | None, policy: Policy) -> str:
    return {
        "hard_bounce": "the receiving server refused mail permanently (hard bounce)",
        "ses_suppression_list": "SES dropped the mail because the address is on the "
                                "account-level suppression list",
        "soft_bounce_limit": f"{policy.soft_bounce_limit} soft bounces within "
                             f"{policy.soft_bounce_window.days} days, no delivery between",
        "transient_grace_expired": "it kept soft-bouncing for more than "
                                   f"{policy.transient_grace.days} days without a delivery",
        "complaint": "the recipient marked mail as spam (complaint)",
        "manual_suppression": "an operator suppressed it",
        "imported_suppression": "it was imported from a suppression list",
    }.get(reason or "", reason or "blocked")


def _detail(status: AddressStatus) -> str:
    diagnostic = status.get("diagnostic")
    if status["reason"] in ("manual_suppression", "imported_suppression"):
        return f"Reason given: {diagnostic}" if diagnostic else ""
    if status["reason"] == "complaint":
        return f"Feedback type: {diagnostic}" if diagnostic else ""
    return f"Diagnostic: {diagnostic}" if diagnostic else ""


def _advice(kind: str) -> str:
    if kind == "complained":
        return ("Only an admin can lift a complaint, and only with a note of the recipient's "
                "renewed consent.")
    if kind == "suppressed":
        return "Reset it if the reason no longer holds."
    return ("Ask the recipient for a working address (change it on their profile), or reset "
            "it once they confirm the mailbox works again.")


def event_details(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` for every field of an event that says something."""
    rows = []
    for key, value in data.items():
        if key in HIDDEN_FIELDS or value in (None, "", [], {}):
            continue
        text = when(value) if key.endswith(("_since", "_time")) else str(value)
        rows.append((FIELD_LABELS.get(key, key.replace("_", " ").capitalize()), text))
    return rows


def percent(rate: float) -> str:
    return f"{rate * 100:.2f} %"


SENDER_CLASS_LABELS = [(c, CLASS_LABELS[c]) for c in SENDER_CLASSES]
ALERT_ADVICE = {
    "sender_reputation": "Look the sending IP and domain up on the blocklist the diagnostic "
                         "names and ask for removal; first find what caused the listing (a "
                         "compromised account, an old or bought list, a sudden jump in volume).",
    "sender_auth": "Check the sending domain's SPF record, DKIM signing (SES Easy DKIM) and "
                   "DMARC policy; a recent DNS change is the usual cause.",
    "content": "Look at what the messages contained (links, attachments, wording): the "
               "receiving servers judged the mail, not the recipients.",
    "policy": "The receiving organisations restrict who may send to them (TLS, approved "
              "senders, greylisting); the diagnostic says which.",
}
