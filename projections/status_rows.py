"""``email_status`` rows: their columns, and whole histories folded into them (rebuilds).

``fold_histories`` gives, for every address whose events it is handed (each address's
events all together, in version order), the row and erased block the live view would hold
after applying them one at a time (``EmailStatusView.apply``), with the mutable fold of
``domain.folding``. The verdict is judged only after events that can change it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import Any

from domain.address import Address
from domain.folding import JUDGED, READS_FIELDS, Folding
from domain.policy import COUNT_NAMES, OK, Mark, Policy, Standing, Verdict, verdict
from domain.standing_json import standing_text
from projections.base import iso, parse_iso
from projections.bulk import LogEvent
from projections.queries import PROJECTION_ERROR

COLUMNS = ("address_id", "address", "status", "sendable", "reason", "diagnostic", "since",
           "last_event_at", "changed_at", *COUNT_NAMES, "standing", "position")
TYPES = ("text", "text", "text", "boolean", "text", "text", "text", "text", "text",
         *("integer" for _ in COUNT_NAMES), "text", "bigint")
BLOCK_COLUMNS = ("address_hash", "address_id", "status", "erased_at", "position")
Values = tuple[Any, ...]
FRESH = Verdict(OK)  # the verdict of an address with no facts, whatever the policy


@dataclass
class StatusRow:
    """One address's row, as the view stores and the API reads it."""

    address_id: str
    address: str
    standing: Standing
    verdict: Verdict
    changed_at: str | None
    position: int
    quarantined: bool = False  # a view failed on its events: not sendable until repaired

    @property
    def sendable(self) -> bool:
        return self.verdict.sendable and not self.quarantined

    @property
    def reason(self) -> str | None:
        return PROJECTION_ERROR if self.quarantined else self.verdict.reason

    def values(self) -> tuple[Any, ...]:
        v, st = self.verdict, self.standing
        return (self.address_id, self.address, v.status, self.sendable, self.reason,
                v.diagnostic, iso(v.since), iso(st.last_event_at), self.changed_at, *st.counts,
                standing_text(st), self.position)


Folded = tuple[list[Values], list[Values]]  # (email_status rows, erased_blocks rows)


def fold_histories(events: Sequence[LogEvent], policy: Policy) -> Folded:
    """``(email_status rows, erased_blocks rows)`` of these addresses' whole histories."""
    rows, blocks = [], []
    for key, history in groupby(events, key=attrgetter("originator_id")):
        row, block = fold_history(key, history, policy)
        if row is not None:
            rows.append(row)
        if block is not None:
            blocks.append(block)
    return rows, blocks


class _History:
    """One address's row as it is being folded."""

    __slots__ = ("address", "changed_at", "folding", "position", "verdict")

    def __init__(self, address: str, folding: Folding, verdict: Verdict) -> None:
        self.address, self.folding, self.verdict = address, folding, verdict
        self.changed_at: str | None = None
        self.position = 0

    def apply(self, event: LogEvent, fields: dict[str, Any]) -> None:
        """Fold one event in; judge again only after one that can change the verdict."""
        self.folding.apply(event.cls, fields)
        if event.cls in JUDGED:
            new = self.folding.verdict()
            if new.status != self.verdict.status or self.changed_at is None:
                self.changed_at = iso(fields["timestamp"])
            self.verdict = new
        elif self.changed_at is None:
            self.changed_at = iso(fields["timestamp"])
        self.position = event.position


def fold_history(key: str, history: Iterable[LogEvent], policy: Policy
                 ) -> tuple[Values | None, Values | None]:
    """The row and the erased block of one address (``None`` where it has none)."""
    current: _History | None = None
    block: Values | None = None
    for event in history:
        # An event the fold reads only the time of needs only its header (``READS_FIELDS``).
        fields = None if not event.address_event else (
            event.fields() if current is None or event.cls in READS_FIELDS else event.times())
        if fields is None:  # redacted (an erased history counts for nothing), or no address
            continue
        if event.cls is Address.Erased:
            current = None
            block = ((fields["address_hash"], key, fields["status"],
                      iso(fields["occurred_at"]), event.position)
                     if fields["blocked"] and fields["address_hash"] else None)
            continue
        if current is None:
            current = _start(fields, event.cls, block, policy)
            if current is None:
                continue
        current.apply(event, fields)
    if current is None:
        return None, block
    row = StatusRow(key, current.address, current.folding.standing(), current.verdict,
                    current.changed_at, current.position)
    return row.values(), block


def _start(fields: dict[str, Any], kind: type[Any], block: Values | None,
           policy: Policy) -> _History | None:
    """A row from ``Registered``, or from ``RegisteredAgain`` carrying an erased block."""
    address = fields.get("address")
    if address is None:
        return None
    if kind is Address.RegisteredAgain and block is not None:
        standing = Standing(erased=Mark(parse_iso(block[3]) or fields["timestamp"], block[2],
                                        None))
        return _History(address, Folding(policy, standing), verdict(standing, policy))
    return _History(address, Folding(policy), FRESH)
