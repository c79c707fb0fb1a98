"""The names of a view's tables and indexes: the live ones, or a rebuild's shadow.

A rebuild fills a second set of tables beside the live ones (``<table>__rebuild``) and swaps
them in (``projections/rebuild.py``). Each view names its tables through a ``Names`` given
to its constructor, so the shadow is the same view class over other tables — no rewriting
of its SQL. Index names start with their table's name, so a shadow's indexes
(``email_status__rebuild_changed``) get their live names back by dropping the suffix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """``names("email_status")`` is the table this view writes; ``indexes`` is false for a
    SQLite shadow (SQLite cannot rename an index; they are built at the swap)."""

    suffix: str = ""
    indexes: bool = True

    def __call__(self, table: str) -> str:
        return table + self.suffix


LIVE = Names()
