"""Random ledgers for the analytics tests: reports over a few addresses, plus admin actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from api.services import Services
from domain.reports import Bounce, Complaint, Delivery, Report, Sent

T0 = datetime(2026, 4, 1, tzinfo=UTC)
Step = Callable[[Services, str], Any]


def _report(kind: str, who: int, hours: int, ref: int) -> Step:
    def step(services: Services, tag: str) -> Any:
        address, at = f"u{who}-{tag}@example.com", T0 + timedelta(hours=hours)
        reports: dict[str, Report] = {
            "hard": Bounce(address, f"h{ref}", "Permanent", "General", at, "sns",
                           diagnostic="550 user unknown", sender="news"),
            "soft": Bounce(address, f"s{ref}", "Transient", "General", at, "sns",
                           diagnostic="452 mailbox full", sender="news"),
            "complaint": Complaint(address, f"c{ref}", at, "sns", feedback_type="abuse",
                                   sender="news"),
            "delivery": Delivery(address, f"m{ref}", at, "sns", sender="news"),
            "sent": Sent(address, f"m{ref}", at, "api", sender="news",
                         profile_id=f"p{who}-{tag}"),
        }
        return services.ledger.record(reports[kind])
    return step


def _admin(kind: str, who: int, hours: int) -> Step:
    def step(services: Services, tag: str) -> Any:
        address, at = f"u{who}-{tag}@example.com", T0 + timedelta(hours=hours)
        if kind == "suppress":
            return services.ledger.suppress(address, actor="ops", reason="asked",
                                            occurred_at=at, source="api")
        return services.ledger.reset(address, actor="ops", reason="fixed", consent="ok",
                                     is_admin=True, occurred_at=at, source="api")
    return step


def _erase(who: int, hours: int) -> Step:
    def step(services: Services, tag: str) -> Any:
        address = f"u{who}-{tag}@example.com"
        if not services.ledger.history(address):
            return False
        return services.ledger.erase(address, actor="admin", reason="asked",
                                     occurred_at=T0 + timedelta(hours=hours), source="api")
    return step


def _change_email(old: int, new: int, hours: int) -> Step:
    def step(services: Services, tag: str) -> Any:
        return services.ledger.change_email(
            f"p{old}-{tag}", old_address=f"u{old}-{tag}@example.com",
            new_address=f"u{new}-{tag}@example.com", actor="ops",
            occurred_at=T0 + timedelta(hours=hours), source="api")
    return step


def _escalate(who: int, hours: int) -> Step:
    def step(services: Services, tag: str) -> Any:
        return services.ledger.escalate(f"u{who}-{tag}@example.com",
                                        now=T0 + timedelta(hours=hours))
    return step


hours = st.integers(0, 24 * 30)
steps = st.one_of(
    st.builds(_report, st.sampled_from(["hard", "soft", "soft", "complaint", "delivery",
                                        "sent"]), st.integers(0, 3), hours, st.integers(0, 9)),
    st.builds(_admin, st.sampled_from(["suppress", "reset"]), st.integers(0, 3), hours),
)
ledgers = st.lists(steps, min_size=1, max_size=12)
# With erasures (the services need an erasure key), email changes and escalations.
erasing_steps = st.one_of(
    steps, steps,
    st.builds(_erase, st.integers(0, 3), hours),
    st.builds(_change_email, st.integers(0, 3), st.integers(0, 3), hours),
    st.builds(_escalate, st.integers(0, 3), hours.map(lambda h: h + 24 * 15)),
)
erasing_ledgers = st.lists(erasing_steps, min_size=1, max_size=16)


def play(services: Services, ledger: list[Step]) -> str:
    """Record every step under a fresh tag (unique addresses per example); returns the tag."""
    tag = uuid.uuid4().hex[:8]
    for step in ledger:
        step(services, tag)
    return tag


def rows(services: Services, table: str) -> list[tuple[Any, ...]]:
    with services.db.read() as cur:
        cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        return [tuple(r) for r in cur.fetchall()]


VIEW_TABLES = {"email_status": ["email_status"], "profiles": ["profiles"],
               "message_map": ["message_map"],
               "senders": ["sender_daily", "sender_hourly", "sender_state"]}
