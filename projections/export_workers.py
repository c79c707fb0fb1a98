"""The export over several processes (``projections.workers``): ranges of positions.

Each worker turns one range of positions of the shared snapshot into finished output —
JSONL bytes, or an Arrow record batch for Parquet (sent as Arrow IPC) — and this process
writes them in log order: byte for byte the sequential export
(``tests/analytics/test_export_golden.py``). SQLite cannot share a snapshot between
connections: there, and for fewer events than ``PARALLEL_FROM`` (workers take a while to
start), the same pages are made in this process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adapters.event_log import EventLog, Snapshot
from domain.ledger import Ledger
from projections.export import (
    PAGE_SIZE,
    AddressNames,
    Selection,
    jsonl,
    parquet_batch,
    parquet_schema,
    read,
)
from projections.log_rows import Opener
from projections.workers import in_order, reader, shareable, worth_it

RANGE = 25_000  # positions per task: ~0.3 s of one worker's work
FORMATS = ("jsonl", "parquet")
# One piece of output in log order: (last position read, events in it, JSONL bytes or an
# Arrow record batch).
Chunk = tuple[int, int, Any]


def chunks(log: EventLog, ledger: Ledger, fmt: str, selection: Selection = Selection(),
           workers: int = 1, span: int = RANGE) -> Iterator[Chunk]:
    """The selected events as finished output, in log order, up to the head when the
    export began."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    parallel = shareable(log, workers)
    with log.snapshot(share=parallel) as snapshot:
        ranges = [(after, min(after + span, snapshot.head))
                  for after in range(selection.after, snapshot.head, span)]
        if snapshot.shared and len(ranges) > 1 and worth_it(snapshot.head - selection.after):
            schema = parquet_schema() if fmt == "parquet" else None
            tasks = [(_range, (snapshot.shared, after, upto, fmt, selection))
                     for after, upto in ranges]
            for chunk in in_order(log, tasks, workers):
                yield _received(chunk, schema)
        else:
            yield from _encode(snapshot, Opener(ledger.mapper), AddressNames(), fmt,
                               selection, None)


def _encode(snapshot: Snapshot, opener: Opener, names: AddressNames, fmt: str,
            selection: Selection, upto: int | None) -> Iterator[Chunk]:
    """Pages of one snapshot as output, one chunk per page."""
    schema = parquet_schema() if fmt == "parquet" else None
    for last, page in read(snapshot, opener, names, selection, PAGE_SIZE, upto):
        if not page:
            yield last, 0, None
        elif schema is not None:
            yield last, len(page), parquet_batch(page, schema)
        else:
            yield last, len(page), b"".join(map(jsonl, page))


def _received(chunk: Chunk, schema: Any) -> Chunk:
    """A worker's chunk as this process writes it (a Parquet batch comes as Arrow IPC)."""
    last, count, payload = chunk
    if schema is None or payload is None:
        return chunk
    import pyarrow as pa

    return last, count, pa.ipc.read_record_batch(pa.py_buffer(payload), schema)


def _range(shared: str, after: int, upto: int, fmt: str, selection: Selection) -> Chunk:
    """In a worker: positions ``after < p <= upto`` of the shared snapshot as one piece."""
    own = reader()
    names = own.kept.setdefault("names", AddressNames())
    count, parts = 0, []
    with own.log.snapshot(join=shared) as snapshot:
        for _, n, payload in _encode(snapshot, own.opener, names, fmt,
                                     Selection(after, selection.since, selection.types), upto):
            count += n
            if payload is not None:
                parts.append(payload)
    if fmt == "jsonl":
        return upto, count, b"".join(parts)
    if not parts:
        return upto, 0, None
    import pyarrow as pa

    batch = pa.Table.from_batches(parts).combine_chunks().to_batches()[0]
    return upto, count, batch.serialize().to_pybytes()
