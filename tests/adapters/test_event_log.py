"""Reading ahead on a thread gives the same pages, hands errors over and stops cleanly."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest

from adapters.event_log import Row, ahead


def numbered(count: int, closed: list[bool], fail_at: int | None = None
             ) -> Generator[list[Row], None, None]:
    try:
        for i in range(count):
            if i == fail_at:
                raise ValueError("the database went away")
            yield [(i,)]
    finally:
        closed.append(True)


def test_pages_come_in_order_and_the_source_is_closed() -> None:
    closed: list[bool] = []
    assert [page[0][0] for page in ahead(numbered(50, closed))] == list(range(50))
    assert closed == [True]


def test_an_error_while_reading_reaches_the_caller() -> None:
    closed: list[bool] = []
    with pytest.raises(ValueError, match="went away"):
        list(ahead(numbered(50, closed, fail_at=7)))
    assert closed == [True]


def test_stopping_early_stops_the_reader_thread() -> None:
    closed: list[bool] = []
    before = threading.active_count()
    pages = ahead(numbered(10_000, closed), depth=2)
    assert next(pages) == [(0,)]
    pages.close()
    assert closed == [True] and threading.active_count() == before
