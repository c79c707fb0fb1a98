"""What an address event becomes once its data key is shredded.

The stored record keeps its place in the history (originator id and version), the time it
was recorded and, in plain text beside the sealed data, when it happened; everything else
is gone. ``Redacted`` keeps the event's type name so history and exports show *what* kind
of fact was erased. The status policy ignores it (``Erased`` carries the status forward).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from hashlib import sha256
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from domain.address import Address

ERASED = "[erased]"


class Redacted(DomainEvent):
    """An address event whose personal data can no longer be read."""

    type_name: str
    occurred_at: datetime | None

    def mutate(self, aggregate: Any) -> Any:
        """Rebuild the aggregate around the gap: a shell for a redacted ``Registered``,
        else only the version moves on."""
        state: dict[str, Any] = {"originator_id": self.originator_id,
                                 "originator_version": self.originator_version,
                                 "timestamp": self.timestamp}
        if aggregate is None:
            cls: type = Address.Registered
            state.update(originator_topic=get_topic(Address), address=None)
        else:
            cls = Address.Event
        placeholder: Any = object.__new__(cls)
        object.__setattr__(placeholder, "__dict__", state)
        return placeholder.mutate(aggregate)


def redacted(originator_id: UUID, version: int, type_name: str, timestamp: datetime,
             occurred_at: datetime | None) -> Redacted:
    event = object.__new__(Redacted)
    object.__setattr__(event, "__dict__", {
        "originator_id": originator_id, "originator_version": version, "timestamp": timestamp,
        "type_name": type_name, "occurred_at": occurred_at})
    return event


def event_type(event: Any) -> str:
    """The stored type name of an event, also for a redacted one."""
    return getattr(event, "type_name", None) or type(event).__name__


def erased_hash(key: bytes, address: str) -> str:
    """The keyed hash (HMAC-SHA256) under which a block outlives its erased address."""
    return hmac.new(key, address.encode(), sha256).hexdigest()
