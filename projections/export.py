"""Every event in global (notification) order, in the SPEC §4 shape, page by page.

Memory stays flat however long the ledger is: the log is read one page at a time and each
page is written before the next is read. Most address events do not carry the address, so
names come from the page's own ``Registered`` events, then the ``email_status`` view, then
the aggregate's first event — through a bounded cache, never a map of the whole ledger.
Sender events (``SenderRegistered``, ``SenderStateChanged``) have ``address`` null.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from uuid import UUID

from adapters.sql import Database
from domain.address import Address
from domain.ledger import Ledger
from domain.redaction import ERASED, event_type
from domain.sender import Sender
from projections.base import Positioned, decode, parse_iso
from projections.event_json import event_dict

PAGE_SIZE = 5000


def _event_names(aggregate: type) -> set[str]:
    base = aggregate.Event  # type: ignore[attr-defined]
    return {name for name, value in vars(aggregate).items() if isinstance(value, type)
            and issubclass(value, base) and name not in ("Event", "Created")}


EVENT_TYPES = frozenset(_event_names(Address) | _event_names(Sender))


@dataclass(frozen=True)
class Selection:
    """Which events: positions after ``after``, recorded at or after ``since``, of ``types``."""

    after: int = 0
    since: datetime | None = None
    types: frozenset[str] = field(default_factory=frozenset)

    def wants(self, event: Any) -> bool:
        if self.types and event_type(event) not in self.types:
            return False
        return self.since is None or event.timestamp >= self.since


class AddressNames:
    """Originator id -> address for address events, with a bounded cache."""

    def __init__(self, ledger: Ledger, db: Database, size: int = 50_000) -> None:
        self.ledger, self.db, self.size = ledger, db, size
        self._cache: OrderedDict[UUID, str] = OrderedDict()

    def _keep(self, key: UUID, address: str) -> None:
        self._cache[key] = address
        self._cache.move_to_end(key)
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)

    def learn(self, events: Sequence[Positioned]) -> None:
        """Make sure every address event of a page can be named."""
        for _, event in events:
            if type(event).__name__ == "Registered" and isinstance(event, Address.Event):
                self._keep(event.originator_id, getattr(event, "address", ""))
        wanted = {e.originator_id for _, e in events
                  if isinstance(e, Address.Event) and e.originator_id not in self._cache}
        if wanted:
            self._from_view(sorted(wanted, key=str))
        for key in wanted - self._cache.keys():
            first: Any = next(iter(self.ledger.events.get(key, lte=1)))
            self._keep(key, getattr(first, "address", None) or ERASED)

    def _from_view(self, keys: list[UUID]) -> None:
        with self.db.read() as cur:
            for i in range(0, len(keys), 500):
                chunk = [str(k) for k in keys[i:i + 500]]
                cur.execute("SELECT address_id, address FROM email_status WHERE address_id IN "
                            f"({','.join('?' * len(chunk))})", chunk)
                for key, address in cur.fetchall():
                    self._keep(UUID(key), address)

    def name(self, event: Any) -> str | None:
        if not isinstance(event, Address.Event):
            return None
        return self._cache[event.originator_id]


def pages(ledger: Ledger, db: Database, selection: Selection = Selection(),
          page_size: int = PAGE_SIZE) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """``(last position read, records of that page)`` from the first event after
    ``selection.after`` to the log's head at the time each page is read."""
    names, position = AddressNames(ledger, db), selection.after
    while notifications := ledger.recorder.select_notifications(start=position + 1,
                                                               limit=page_size):
        position = notifications[-1].id
        events = decode(ledger, notifications)
        events = [(p, e) for p, e in events if selection.wants(e)]
        names.learn(events)
        yield position, [event_dict(e, names.name(e), p) for p, e in events]


def write_jsonl(records: Sequence[dict[str, Any]], out: IO[str]) -> None:
    out.write("".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                      for r in records))


class ParquetOut:
    """A Parquet file written one row group per page (schema in docs/export.md)."""

    def __init__(self, path: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        stamp = pa.timestamp("us", tz="UTC")
        self.schema = pa.schema([
            pa.field("position", pa.int64(), nullable=False),
            pa.field("address", pa.string()),
            pa.field("type", pa.string(), nullable=False),
            pa.field("version", pa.int64(), nullable=False),
            pa.field("occurred_at", stamp), pa.field("recorded_at", stamp, nullable=False),
            pa.field("data", pa.string(), nullable=False),
        ])
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        columns: dict[str, list[Any]] = {name: [] for name in self.schema.names}
        for r in records:
            for name in ("position", "address", "type", "version"):
                columns[name].append(r[name])
            columns["occurred_at"].append(parse_iso(r["occurred_at"]))
            columns["recorded_at"].append(parse_iso(r["recorded_at"]))
            columns["data"].append(json.dumps(r["data"], ensure_ascii=False,
                                              separators=(",", ":")))
        self._writer.write_table(self._pa.Table.from_pydict(columns, schema=self.schema))

    def close(self) -> None:
        self._writer.close()
