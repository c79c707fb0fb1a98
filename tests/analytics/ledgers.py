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


hours = st.integers(0, 24 * 30)
steps = st.one_of(
    st.builds(_report, st.sampled_from(["hard", "soft", "soft", "complaint", "delivery",
                                        "sent"]), st.integers(0, 3), hours, st.integers(0, 9)),
    st.builds(_admin, st.sampled_from(["suppress", "reset"]), st.integers(0, 3), hours),
)
ledgers = st.lists(steps, min_size=1, max_size=12)


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
