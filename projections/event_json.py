"""One event as the SPEC §4 export/history shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.address import Address
from domain.failure_classes import classify, describe
from domain.redaction import ERASED, Redacted, event_type
from projections.base import iso

BOUNCE_EVENTS = (Address.HardBounced, Address.SoftBounced, Address.SenderRejected)

_ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp", "occurred_at"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def event_dict(event: Any, address: str | None, position: int | None = None) -> dict[str, Any]:
    """``{position?, address, type, version, occurred_at, recorded_at, data}``.

    A redacted event keeps its type, version and times; its address is ``[erased]`` and
    its data ``{"redacted": true}``. ``Erased`` is named ``[erased]`` too."""
    if isinstance(event, Redacted):
        data: dict[str, Any] = {"redacted": True}
    else:
        data = {k: _plain(v) for k, v in vars(event).items() if k not in _ENVELOPE}
    if isinstance(event, Redacted | Address.Erased):
        address = ERASED
    record: dict[str, Any] = {} if position is None else {"position": position}
    record.update({
        "address": address,
        "type": event_type(event),
        "version": event.originator_version,
        "occurred_at": iso(getattr(event, "occurred_at", None) or event.timestamp),
        "recorded_at": iso(event.timestamp),
        "data": data,
    })
    return record


def explanation(event: Any) -> str | None:
    """Who failed, in plain words, for a bounce (SPEC §3.1): the class the event carries; for
    one recorded before the classifier, what it counted as then and what the classifier
    would say now (``what-if --classify`` lists those it would not have blocked)."""
    if not isinstance(event, BOUNCE_EVENTS):
        return None
    if event.failure_class is not None:
        return describe(event.failure_class, event.rule)
    counted = "a hard bounce" if isinstance(event, Address.HardBounced) else "a soft bounce"
    now = classify(event.bounce_type, event.bounce_subtype, event.status_code, event.diagnostic)
    return (f"Recorded before bounces were classified, and counted against the recipient as "
            f"{counted}. The classifier would now say: {now.words}")


def history_dict(event: Any, address: str | None) -> dict[str, Any]:
    """``event_dict`` with the plain-words ``explanation`` (history, not exports)."""
    return {**event_dict(event, address), "explanation": explanation(event)}
