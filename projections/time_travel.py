"""An address's status as it was at an instant: the CLI's ``status --at`` and the API's
``status-at`` share this one code path.

"As it was" means what the ledger knew then: the events *recorded* up to the instant,
folded under the policy (a report that arrived later does not rewrite the past).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidCommand
from domain.ledger import Ledger
from domain.policy import verdict
from projections.base import iso

RULES = {
    None: "no rule blocks it",
    "soft_bounce": "soft bounces since the last delivery (still sendable)",
    "hard_bounce": "a permanent (hard) bounce",
    "ses_suppression_list": "SES's account-level suppression list dropped the mail",
    "soft_bounce_limit": "the soft-bounce limit within the window, no delivery between",
    "transient_grace_expired": "soft bounces for longer than the grace period",
    "complaint": "a complaint from the recipient",
    "manual_suppression": "an operator suppressed it",
    "imported_suppression": "an imported suppression list",
    "erased": "the block it had when its personal data was erased",
}


def parse_instant(value: str) -> datetime:
    """ISO 8601 (``Z`` allowed); a time without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCommand(f"not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def status_at(ledger: Ledger, address: str, at: datetime) -> dict[str, Any]:
    """The status from the events recorded up to ``at``, and the rule that produced it."""
    standing = ledger.standing(address, until=at)
    found = verdict(standing, ledger.policy)
    return {"address": address, "at": iso(at), "status": found.status,
            "sendable": found.sendable, "reason": found.reason,
            "rule": RULES.get(found.reason, found.reason), "diagnostic": found.diagnostic,
            "since": iso(found.since), "counts": standing.counts_dict()}
