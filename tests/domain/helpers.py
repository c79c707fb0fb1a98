"""Builders for domain tests: events come from real aggregate commands, with no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.address import Address
from domain.policy import Policy, Verdict, fold, verdict
from domain.reports import Blocked, Bounce, Complaint, Delivery, Report, Sent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADDRESS = "someone@example.com"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def hard(n: float, fid: str = "", subtype: str = "General") -> Bounce:
    return Bounce(ADDRESS, fid or f"hard-{n}", "Permanent", subtype, day(n), "sns",
                  diagnostic="smtp; 550 5.1.1 user unknown")


def soft(n: float, fid: str = "", subtype: str = "General") -> Bounce:
    return Bounce(ADDRESS, fid or f"soft-{n}", "Transient", subtype, day(n), "sns",
                  diagnostic="smtp; 452 4.2.2 mailbox full")


def complaint(n: float, fid: str = "", feedback_type: str | None = "abuse") -> Complaint:
    return Complaint(ADDRESS, fid or f"complaint-{n}", day(n), "sns", feedback_type=feedback_type)


def delivery(n: float, mid: str = "") -> Delivery:
    return Delivery(ADDRESS, mid or f"msg-{n}", day(n), "sns")


def sent(n: float, mid: str = "") -> Sent:
    return Sent(ADDRESS, mid or f"msg-{n}", day(n), "api")


def blocked(n: float) -> Blocked:
    return Blocked(ADDRESS, "bounced", day(n), "api")


def record(reports: list[Report], agg: Address | None = None) -> tuple[Address, list[Any]]:
    """Apply reports to one aggregate; return it and the events it produced."""
    agg = agg or Address(address=ADDRESS)
    for report in reports:
        agg.record(report)
    return agg, list(agg.collect_events())


def unclassified_hard_bounce(agg: Address, *, feedback_id: str, diagnostic: str,
                             status_code: str, occurred_at: datetime,
                             message_id: str = "m") -> bool:
    """A hard bounce as the code before the classifier stored it: no class, no rule (what
    a stored version 1 event reads as). No report records one any more."""
    agg.trigger_event(Address.HardBounced, message_id=message_id, feedback_id=feedback_id,
                      bounce_type="Permanent", bounce_subtype="General", diagnostic=diagnostic,
                      status_code=status_code, action="failed", reporting_mta=None,
                      sender="shop.example", occurred_at=occurred_at, source="sns",
                      failure_class=None, rule=None)
    return True


def reset(agg: Address, n: float) -> list[Any]:
    agg.reset(actor="ops", reason="fixed", consent=None, occurred_at=day(n), source="api")
    return list(agg.collect_events())


def suppress(agg: Address, n: float) -> list[Any]:
    agg.suppress(actor="ops", reason="asked to stop", occurred_at=day(n), source="api")
    return list(agg.collect_events())


def status_after(reports: list[Report], policy: Policy | None = None) -> Verdict:
    policy = policy or Policy()
    _, events = record(reports)
    return verdict(fold(events, policy), policy)
