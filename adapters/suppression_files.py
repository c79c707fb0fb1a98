"""Reading suppression lists: CSV (``address[,reason]``) or the JSON of SES v2
``ListSuppressedDestinations`` (``SuppressedDestinationSummaries``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adapters.addresses import normalize_address
from domain.errors import InvalidAddress


@dataclass(frozen=True)
class Entry:
    line: int
    address: str
    reason: str


@dataclass(frozen=True)
class BadLine:
    line: int
    problem: str


class UnreadableFile(Exception):
    """The file is neither a CSV of addresses nor SES suppression-list JSON."""


def read_suppressions(text: str) -> Iterator[Entry | BadLine]:
    """Entries and bad lines in file order; the format is recognised from the content."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        yield from _from_ses_json(stripped)
    else:
        yield from _from_csv(text)


def _entry(line: int, raw: str, reason: str) -> Entry | BadLine:
    try:
        return Entry(line, normalize_address(raw), reason.strip() or "imported")
    except InvalidAddress as error:
        return BadLine(line, error.message)


def _from_csv(text: str) -> Iterator[Entry | BadLine]:
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() in ("address", "email", "emailaddress"):
            continue
        if len(row) > 2:
            yield BadLine(number, f"expected address[,reason], got {len(row)} columns")
            continue
        yield _entry(number, row[0], row[1] if len(row) == 2 else "imported")


def _from_ses_json(text: str) -> Iterator[Entry | BadLine]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableFile(f"not valid JSON: {error}") from None
    pages = data if isinstance(data, list) else [data]
    index = 0
    for page in pages:
        summaries = page.get("SuppressedDestinationSummaries") if isinstance(page, dict) else None
        if not isinstance(summaries, list):
            raise UnreadableFile("JSON without SuppressedDestinationSummaries")
        for found in ses_entries(summaries, first=index + 1):
            index += 1
            yield found


def ses_entries(summaries: list[Any], first: int = 1) -> Iterator[Entry | BadLine]:
    """``SuppressedDestinationSummaries`` as entries (reason ``ses:BOUNCE``/``ses:COMPLAINT``),
    numbered from ``first``: the file import and the sync's pull share these rules."""
    for index, item in enumerate(summaries, start=first):
        if not isinstance(item, dict) or not isinstance(item.get("EmailAddress"), str):
            yield BadLine(index, "entry without an EmailAddress string")
            continue
        yield _entry(index, item["EmailAddress"], f"ses:{item.get('Reason') or 'UNKNOWN'}")
