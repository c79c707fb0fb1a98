"""The names of a view's tables and indexes: the live ones, or a rebuild's shadow.

A rebuild fills a second set of tables beside the live ones (``<table>__rebuild``) and swaps
them in (``projections/rebuild.py``). Each view names its tables through a ``Names`` given
to its constructor, so the shadow is the same view class over other tables — no rewriting
of its SQL. Index names start with their table's name, so a shadow's indexes
(``email_status__rebuild_changed``) get their live names back by dropping the suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class Names:
    """``names("email_status")`` is the table this view writes; ``indexes`` is false for a
    SQLite shadow (SQLite cannot rename an index; they are built at the swap)."""

    suffix: str = ""
    indexes: bool = True

    def __call__(self, table: str) -> str:
        return table + self.suffix


LIVE = Names()


class TableView:
    """``create``, ``clear`` and ``shadow`` for a view whose ``tables`` are made by its
    ``statements(names)`` (a subclass sets both, and takes ``names`` first)."""

    tables: tuple[str, ...]
    statements: Callable[[Names], list[str]]

    def __init__(self, names: Names = LIVE) -> None:
        self.names = names

    def shadow(self, names: Names) -> Self:
        """The same view over other tables, without listeners (a rebuild's shadow)."""
        return type(self)(names)

    def create(self, cur: Any) -> None:
        for statement in type(self).statements(self.names):
            cur.execute(statement)

    def clear(self, cur: Any) -> None:
        for table in self.tables:
            cur.execute(f"DELETE FROM {self.names(table)}")
