"""Recording the SES suppression-list sync on the addresses' histories (SPEC §12).

Every acknowledged call becomes an event on the address (``AddedToSesSuppressionList``,
``RemovedFromSesSuppressionList``), so the history says what SES was told and when. A pull
imports SES's entries with the rules of ``import-suppressions`` (``Suppressed``, source
``import``, reason ``ses:BOUNCE``/``ses:COMPLAINT``, once per reason), except where SES only
repeats what we know: the address is blocked here already, or the entry is the one we put.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.address import Address
from domain.addresses import address_id
from domain.ledger import Batch, Ledger
from domain.notifications import PUT
from domain.policy import verdict

SYNC_ACTOR = "ses-sync"


@dataclass(frozen=True)
class Acknowledged:
    """SES answered a push call for ``address`` (outbox entry ``request``)."""

    address: str
    request: str
    action: str
    cause: str
    occurred_at: datetime
    reason: str | None = None
    found: bool = True


def record_acknowledged(ledger: Ledger, call: Acknowledged) -> bool:
    """Record the call on the address; ``False`` when the address was erased meanwhile."""
    def command(agg: Address) -> bool:
        if call.action == PUT:
            return agg.record_added_to_ses_list(
                reason=call.reason or "BOUNCE", request=call.request, cause=call.cause,
                occurred_at=call.occurred_at, source="job")
        return agg.record_removed_from_ses_list(
            request=call.request, cause=call.cause, found=call.found,
            occurred_at=call.occurred_at, source="job")

    return ledger.apply_commands([(call.address, command)], revive=False)[0]


def import_listed(ledger: Ledger, entries: Sequence[tuple[str, str]], *,
                  occurred_at: datetime) -> list[bool]:
    """Import ``(address, reason)`` entries of SES's list in one transaction; ``True`` for
    each address suppressed here by it. Skipped: addresses not sendable here (SES agrees
    with us), addresses whose SES entry is ours, and reasons imported before."""
    def work(batch: Batch) -> list[bool]:
        loaded = batch.load({address_id(address) for address, _ in entries})
        aggregates: dict[str, Address] = {}
        results = []
        for address, reason in entries:
            agg = aggregates.get(address)
            if agg is None:
                found = loaded.get(address_id(address))
                agg = found if isinstance(found, Address) else Address(address=address)
                agg.register_again(address=address)
                aggregates[address] = agg
            results.append(_import_one(batch, ledger, agg, reason, occurred_at))
        batch.save([a for a in aggregates.values() if a.pending_events and any(
            isinstance(e, Address.Suppressed) for e in a.pending_events)])
        return results

    return ledger.store.run(work)


def _import_one(batch: Batch, ledger: Ledger, agg: Address, reason: str,
                occurred_at: datetime) -> bool:
    if agg.listed_by_us:
        return False
    if not verdict(batch.standing(agg.id, ledger.policy), ledger.policy).sendable:
        return False
    return agg.suppress(actor=SYNC_ACTOR, reason=reason, occurred_at=occurred_at,
                        source="import")
