"""Stored event rows to plain values, without the library's event objects.

A whole-log read (export, rebuild) decodes each row's JSON with orjson and converts only the
transcoded values (``{"_type_": "datetime_iso", ...}``) it meets — the same values the
library's ``JSONTranscoder`` would give, so results are identical (``tests/analytics``).
Sealed address events are opened with their aggregate's data key (``adapters.shredding``);
one that cannot be opened is *redacted*: only its type and times are known.

A row stored under an older ``class_version`` than its event class's goes through the
library's mapper instead (its upcasters), so stored-contract changes keep working here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from adapters.shredding import VERSION, open_other, sealed_other_id, unseal
from domain.address import Address
from domain.redaction import Redacted
from projections.base import iso

ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp",
                      "occurred_at"})
Fields = dict[str, Any]
CipherFor = Callable[[str], AESGCM | None]
_DECODE: dict[str, Callable[[Any], Any]] = {
    "datetime_iso": datetime.fromisoformat, "uuid_hex": UUID, "decimal_str": Decimal}


@dataclass(frozen=True)
class Kind:
    """What a topic is: its event class (what code dispatches on), its SPEC §4 type name
    (what exports write), whether it is an address event, and its class version (a row
    stored under an older one is upcast by the library's mapper)."""

    cls: type[Any]
    name: str
    address: bool
    version: int


@lru_cache(maxsize=256)
def kind(topic: str) -> Kind:
    cls = resolve_topic(topic)
    address = isinstance(cls, type) and issubclass(cls, Address.Event)
    return Kind(cls, cls.__name__, address, getattr(cls, "class_version", 1))


def stale(fields: Fields, what: Kind) -> bool:
    """Whether decoded fields were stored under an older class version (and drop the
    marker, as the library does)."""
    return fields.pop("class_version", 1) < what.version


def python_value(value: Any) -> Any:
    """A decoded JSON value with the transcoder's types restored (datetime, UUID, Decimal)."""
    if type(value) is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return _DECODE[value["_type_"]](value["_data_"])
        return {k: python_value(v) for k, v in value.items()}
    if type(value) is list:
        return [python_value(v) for v in value]
    return value


def iso_text(value: Any) -> str:
    """A transcoded datetime as export text: UTC, microseconds, ``Z``.

    Stored datetimes are ``isoformat()`` text; a UTC one is reformatted as text, without
    building a datetime (``projections.base.iso`` gives the same for every other)."""
    text: str = value["_data_"]
    if text.endswith("+00:00"):
        return (text[:-6] + ".000000Z") if len(text) == 25 else text[:-6] + "Z"
    return iso(datetime.fromisoformat(text)) or ""


def export_value(value: Any) -> Any:
    """A decoded JSON value as the export writes it (datetimes as text, uuids as text)."""
    if type(value) is dict:
        if len(value) == 2 and value.get("_type_") == "datetime_iso":
            return iso_text(value) if value["_data_"] else None
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return str(python_value(value))
        return {k: export_value(v) for k, v in value.items()}
    if type(value) is list:
        return [export_value(v) for v in value]
    return value


class Opened:
    """One row opened: its state as raw JSON values (``None`` when redacted), and its times
    as transcoded values (``{"_type_": ..., "_data_": ...}``)."""

    __slots__ = ("occurred_at", "state", "timestamp")

    def __init__(self, state: Fields | None, timestamp: Any, occurred_at: Any) -> None:
        self.state, self.timestamp, self.occurred_at = state, timestamp, occurred_at


class Opener:
    """Decrypts and decodes stored states; ``mapper`` serves rows that need upcasting."""

    def __init__(self, mapper: Any) -> None:
        self.mapper = mapper
        library_only = getattr(mapper, "compressor", None) or getattr(mapper, "cipher", None)
        if library_only:
            raise ValueError("the event store compresses or encrypts with the library's own "
                             "cipher; whole-log reads do not support that")

    def open(self, originator_id: str, version: int, topic: str, state: bytes,
             cipher: AESGCM | None, others: CipherFor) -> Opened:
        """The row's fields; ``others`` gives the cipher of another address (email changes)."""
        original = state
        if state[:1] == VERSION:
            header, plain = unseal(state, originator_id, cipher)
            if plain is None:
                times = orjson.loads(header)
                return Opened(None, times["timestamp"], times["occurred_at"])
            state = plain
        fields: Fields = orjson.loads(state)
        if stale(fields, kind(topic)):
            return self.upcast(originator_id, version, topic, original)
        open_others(fields, originator_id, others)
        return Opened(fields, fields["timestamp"], fields.get("occurred_at"))

    def upcast(self, originator_id: str, version: int, topic: str, state: bytes) -> Opened:
        """A row stored under an older class version, through the library's mapper."""
        event = self.mapper.to_domain_event(StoredEvent(UUID(originator_id), version, topic,
                                                        state))
        fields = {k: _transcoded(v) for k, v in vars(event).items()
                  if k not in ("originator_id", "originator_version")}
        if isinstance(event, Redacted):
            return Opened(None, fields["timestamp"], fields.get("occurred_at"))
        return Opened(fields, fields["timestamp"], fields.get("occurred_at"))


def open_others(fields: Fields, originator_id: str, others: CipherFor) -> None:
    """The other address of an email change, opened in place (``[erased]`` once shredded)."""
    for name in ("new_address", "old_address"):
        if sealed_other_id(fields.get(name)) is not None:
            fields[name] = open_other(fields[name], originator_id, others)


def _transcoded(value: Any) -> Any:
    """A Python value back in the transcoder's JSON form (the fast path's currency)."""
    if isinstance(value, datetime):
        return {"_type_": "datetime_iso", "_data_": value.isoformat()}
    if isinstance(value, UUID):
        return {"_type_": "uuid_hex", "_data_": value.hex}
    if isinstance(value, Decimal):
        return {"_type_": "decimal_str", "_data_": str(value)}
    return value
