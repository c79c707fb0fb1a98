"""``ses_push``: what SES's account-level suppression list must hear (SPEC §12), from the log.

Registered only when ``SES_SUPPRESSION_SYNC`` is ``push`` or ``both``: a process without it
leaves this view's tracking row alone, so nothing is skipped by a process configured
differently (turning push off and on again later sends what happened meanwhile). Like
``webhooks`` it compares each touched address's status in ``email_status`` (applied earlier
in the same transaction) with the one it last saw (``ses_push_status``) and applies
``domain.notifications.ses_push``; a new view starts where ``email_status`` stands.
It also closes the loop: the event recording SES's answer marks its outbox row done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, cast

from adapters.ses_sync_store import create_tables, forget_address, mark_done
from adapters.sql import Cursor
from domain.address import Address
from domain.notifications import LIFTS_SES_BLOCK, STATUS_NEUTRAL, ses_push
from domain.policy import OK
from projections.base import Positioned, insert_rows, iso
from projections.webhooks import NotReplayable, start_beside_status

STATE = ("CREATE TABLE IF NOT EXISTS ses_push_status ("
         "address_id TEXT PRIMARY KEY, status TEXT NOT NULL)")
ACKNOWLEDGEMENTS = frozenset({"AddedToSesSuppressionList", "RemovedFromSesSuppressionList"})
OUTBOX_COLUMNS = ("id", "position", "address_id", "address", "action", "reason", "cause",
                  "state", "next_attempt_at", "created_at")


def from_ses(event: Any) -> bool:
    """A suppression imported from SES's own list (the sync's pull or an SES JSON file)."""
    return (type(event).__name__ == "Suppressed" and event.source == "import"
            and str(event.reason).startswith("ses:"))


class SesPushView:
    """Writes the push outbox and marks acknowledged calls done."""

    name = "ses_push"
    replayable = False

    def __init__(self, wake: Callable[[], None] | None = None, for_update: str = "") -> None:
        self.wake, self.for_update = wake, for_update

    def create(self, cur: Cursor) -> None:
        create_tables(cur)
        cur.execute(STATE)
        start_beside_status(cur, self.name, "INSERT INTO ses_push_status (address_id, status) "
                            "SELECT address_id, status FROM email_status WHERE status <> 'ok'",
                            self.for_update)

    def clear(self, cur: Cursor) -> None:
        raise NotReplayable("the ses_push view is not rebuilt: it would repeat every call")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> int:
        by_address: dict[str, list[Positioned]] = {}
        done: list[str] = []
        for position, event in events:
            if not isinstance(event, Address.Event):
                continue
            if type(event).__name__ in ACKNOWLEDGEMENTS:
                done.append(cast(Any, event).request)
            by_address.setdefault(str(event.originator_id), []).append((position, event))
        if done:
            mark_done(cur, done, events[-1][1].timestamp)
        return self._calls(cur, by_address)

    def _calls(self, cur: Cursor, by_address: dict[str, list[Positioned]]) -> int:
        keys = sorted(k for k, evs in by_address.items()
                      if any(type(e).__name__ not in STATUS_NEUTRAL
                             or type(e).__name__ in LIFTS_SES_BLOCK for _, e in evs))
        if not keys:
            return 0
        before = _select(cur, "SELECT address_id, status FROM ses_push_status", keys)
        after = _select(cur, "SELECT address_id, status, address FROM email_status", keys)
        rows: list[tuple[Any, ...]] = []
        states: dict[str, str] = {}
        for key in keys:
            rows.extend(self._one(cur, key, by_address[key], before.get(key, (key, OK))[1],
                                  after.get(key), states))
        insert_rows(cur, f"INSERT INTO ses_push_outbox ({', '.join(OUTBOX_COLUMNS)})", rows,
                    "ON CONFLICT (id) DO NOTHING")
        _remember(cur, states)
        return len(rows)

    @staticmethod
    def _one(cur: Cursor, key: str, events: list[Positioned], before: str,
             row: tuple[Any, ...] | None, states: dict[str, str]) -> list[tuple[Any, ...]]:
        erasures = [i for i, (_, e) in enumerate(events) if type(e).__name__ == "Erased"]
        if erasures:
            erased = events[erasures[-1]][1]
            forget_address(cur, key, erased.timestamp)
            before = states[key] = erased.status if erased.blocked else OK
            events = events[erasures[-1] + 1:]
        names = {type(e).__name__ for _, e in events}
        if row is None or not (names - STATUS_NEUTRAL or names & LIFTS_SES_BLOCK):
            return []
        states[key] = row[1]
        call = ses_push(before, row[1], lifted=bool(names & LIFTS_SES_BLOCK),
                        from_ses=any(from_ses(e) for _, e in events))
        if call is None:
            return []
        position, cause = [(p, e) for p, e in events if type(e).__name__ not in STATUS_NEUTRAL
                           or type(e).__name__ in LIFTS_SES_BLOCK][-1]
        stamp = iso(cause.timestamp)
        call_id = "ses_" + hashlib.sha256(f"{position}|{key}".encode()).hexdigest()[:32]
        return [(call_id, position, key, row[2], call.action, call.reason,
                 type(cause).__name__, "pending", stamp, stamp)]

    def after_commit(self, changes: int) -> None:
        if changes and self.wake is not None:
            self.wake()


def _select(cur: Cursor, sql: str, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        cur.execute(f"{sql} WHERE address_id IN ({','.join('?' * len(chunk))})", chunk)
        found.update({row[0]: tuple(row) for row in cur.fetchall()})
    return found


def _remember(cur: Cursor, states: dict[str, str]) -> None:
    gone = [(k,) for k, status in states.items() if status == OK]
    kept = [(k, status) for k, status in states.items() if status != OK]
    if gone:
        cur.executemany("DELETE FROM ses_push_status WHERE address_id = ?", gone)
    insert_rows(cur, "INSERT INTO ses_push_status (address_id, status)", kept,
                "ON CONFLICT (address_id) DO UPDATE SET status = excluded.status")
