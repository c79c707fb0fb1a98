"""``what-if --classify --apply``: lifting a block the classifier would not have made.

The replay (``projections.reclassify``) proposes; each address is judged again on its own
history read now, so a block that arrived since the replay is never lifted, and the reset
goes through the ledger like an operator's (no admin: a complaint is never lifted here).
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import LedgerError
from domain.ledger import Ledger
from projections.reclassify import Unblock, still_unblocks


def lift(ledger: Ledger, row: Unblock, *, actor: str, now: datetime) -> bool:
    """Reset the address with the replay's reason if it is still blocked only by what the
    classifier would not record; ``False`` when its status changed since (or the ledger
    refuses)."""
    if not still_unblocks(ledger, row.address):
        return False
    try:
        ledger.reset(row.address, actor=actor, reason=row.reason, consent=None,
                     is_admin=False, occurred_at=now, source="cli")
    except LedgerError:
        return False
    return True
