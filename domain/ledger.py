"""The ledger application: the only write path for address events."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, RecordConflictError, Transcoder

from domain.address import Address
from domain.addresses import address_id
from domain.errors import AddressNotFound, ConsentRequired, ErasureUnavailable, InvalidCommand
from domain.policy import COMPLAINED, Policy, Standing, Verdict, fold, grace_expired, verdict
from domain.redaction import erased_hash
from domain.reports import Report
from domain.sender import Judgement, Sender, sender_id

Command = Callable[[Address], bool]


class DataKeys(Protocol):
    """Where the per-address data keys of crypto-shredding live (``adapters.shredding``)."""

    def ensure(self, ids: Collection[UUID]) -> None: ...
CONFLICT_RETRIES = 12


class Ledger(Application[UUID]):
    """Records facts about addresses; every change is an event on an ``Address``.

    Observers in ``committed`` are called with the last notification id after each commit
    (the projections catch up there, which gives read-your-writes).
    """

    name = "bounceledger"

    def __init__(self, env: Mapping[str, str], policy: Policy | None = None,
                 mapper_factory: Callable[[Transcoder], Mapper[UUID]] | None = None) -> None:
        # Set before ``super().__init__``, which calls ``construct_mapper``.
        self._mapper_factory = mapper_factory
        super().__init__(dict(env))
        self.policy = policy or Policy()
        self.committed: list[Callable[[int], object]] = []
        # Erasure: the key of the keyed hash that keeps a block, and what to shred after an
        # ``Erased`` commit (data keys, caches), each called with the address and its id.
        self.erasure_key: bytes | None = None
        self.shredders: list[Callable[[str, UUID], object]] = []
        self.data_keys: DataKeys | None = None
        self._local = threading.local()
        # Optional: which of these addresses are (probably) new? New ones are created without
        # a read. A wrong guess only costs a version conflict and a retry with real reads.
        self.absent_hint: Callable[[list[str]], set[str]] | None = None

    # -- writing -----------------------------------------------------------------------------

    def record(self, *reports: Report) -> list[bool]:
        """Store reports in one transaction; ``False`` marks a duplicate that changed nothing."""
        return self.apply_commands([(r.address, r.apply_to) for r in reports])

    def reset(self, address: str, *, actor: str, reason: str, consent: str | None,
              is_admin: bool, occurred_at: datetime, source: str) -> None:
        """Return the address to ``ok``; lifting a complaint needs an admin and consent."""
        reason, consent = _required(reason, "reason"), (consent or "").strip() or None
        if self.verdict(address).status == COMPLAINED and not (is_admin and consent):
            raise ConsentRequired(
                "a complaint is the recipient's own word: lifting it needs the admin role "
                "and a consent note"
            )
        self.apply_commands([(address, lambda a: a.reset(
            actor=actor, reason=reason, consent=consent, occurred_at=occurred_at, source=source,
        ))])

    def suppress(self, address: str, *, actor: str, reason: str,
                 occurred_at: datetime, source: str) -> None:
        """Block the address by an operator's decision."""
        reason = _required(reason, "reason")
        self.apply_commands([(address, lambda a: a.suppress(
            actor=actor, reason=reason, occurred_at=occurred_at, source=source,
        ))])

    def import_suppressions(self, entries: Sequence[tuple[str, str]], *, actor: str,
                            occurred_at: datetime) -> list[bool]:
        """Suppress ``(address, reason)`` pairs in one transaction; a rerun changes nothing."""
        def command(reason: str) -> Command:
            return lambda agg: agg.suppress(actor=actor, reason=reason, occurred_at=occurred_at,
                                            source="import")

        return self.apply_commands([(address, command(_required(reason, "reason")))
                                    for address, reason in entries])

    def escalate(self, address: str, *, now: datetime, source: str = "job") -> bool:
        """Turn a soft-bounce streak older than the grace period into ``bounced``.

        Decided from the address's own events, so running the job twice changes nothing.
        """
        def command(agg: Address) -> bool:
            expired = grace_expired(fold(self.events.get(agg.id), self.policy), self.policy, now)
            if expired is None or expired.since is None:
                return False
            return agg.record_soft_bounce_escalated(
                streak_since=expired.since, diagnostic=expired.diagnostic, occurred_at=now,
                source=source)

        return self.apply_commands([(address, command)])[0]

    def change_email(self, profile_id: str, *, old_address: str | None, new_address: str,
                     actor: str | None, occurred_at: datetime, source: str) -> bool:
        """Move a profile to ``new_address``; both addresses are saved in one transaction."""
        profile_id = _required(profile_id, "profile_id")
        if old_address == new_address:
            return False
        commands: list[tuple[str, Command]] = [(new_address, lambda a: a.record_email_changed_from(
            profile_id=profile_id, old_address=old_address, actor=actor,
            occurred_at=occurred_at, source=source,
        ))]
        if old_address is not None:
            commands.insert(0, (old_address, lambda a: a.record_email_changed_to(
                profile_id=profile_id, new_address=new_address, actor=actor,
                occurred_at=occurred_at, source=source,
            )))
        self.apply_commands(commands)
        return True

    def erase(self, address: str, *, actor: str, reason: str, occurred_at: datetime,
              source: str) -> bool:
        """Erase the address's personal data (crypto-shredding) and keep its block, if any,
        as a keyed hash. ``False`` when it was already erased (the shredding runs again, so
        a retry completes an erasure that failed half-way). Unknown: ``AddressNotFound``."""
        reason = _required(reason, "reason")
        if self.erasure_key is None:
            raise ErasureUnavailable(
                "erasure needs BOUNCELEDGER_ERASURE_KEY (the key of the hash that keeps a block)")
        if not list(self.events.get(address_id(address), limit=1)):
            raise AddressNotFound(f"{address} has never been recorded")
        key = self.erasure_key

        def command(agg: Address) -> bool:
            # The status is folded on every attempt: a report that wins a version conflict
            # (a hard bounce arriving now) must be in the status the erasure keeps.
            now = verdict(fold(self.events.get(agg.id), self.policy), self.policy)
            return agg.erase(
                actor=actor, reason=reason, status=now.status, blocked=not now.sendable,
                address_hash=None if now.sendable else erased_hash(key, address),
                occurred_at=occurred_at, source=source)

        erased = self.apply_commands([(address, command)], revive=False)[0]
        for shred in self.shredders:
            shred(address, address_id(address))
        return erased

    def apply_commands(self, commands: Sequence[tuple[str, Command]], *,
                       revive: bool = True) -> list[bool]:
        """Run commands on their aggregates and save them all at once, retrying on conflict.

        A command on an erased address first records ``RegisteredAgain`` (unless ``revive``
        is false): the new facts must name the address again for the views."""
        for attempt in range(CONFLICT_RETRIES):
            absent = self._guess_absent(commands) if attempt == 0 else set()
            aggregates: dict[str, Address] = {}
            touched: set[str] = set()
            results = []
            for address, command in commands:
                if address not in aggregates:
                    aggregates[address] = (Address(address=address) if address in absent
                                           else self._load_or_create(address))
                    if revive:
                        aggregates[address].register_again(address=address)
                results.append(command(aggregates[address]))
                if results[-1]:
                    touched.add(address)
            # An address no command changed is not saved (not even a new one's Registered).
            changed = [a for address, a in aggregates.items()
                       if address in touched and a.pending_events]
            if not changed:
                return results
            try:
                self._save_and_notify(*changed)
            except RecordConflictError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                _back_off(attempt)
                continue
            return results
        raise AssertionError("unreachable")  # pragma: no cover

    def judge_sender(self, name: str, judgement: Judgement, *, occurred_at: datetime) -> bool:
        """Move a sender to the state the rules give (a pause waits for an admin)."""
        return self._change_sender(name, lambda s: s.apply_judgement(
            judgement, occurred_at=occurred_at))

    def resume_sender(self, name: str, *, actor: str, reason: str, occurred_at: datetime,
                      source: str) -> bool:
        """An admin lets a warned or paused sender send again."""
        return self._change_sender(name, lambda s: s.resume(
            actor=actor, reason=reason, occurred_at=occurred_at, source=source))

    def _change_sender(self, name: str, command: Callable[[Sender], bool]) -> bool:
        for attempt in range(CONFLICT_RETRIES):
            try:
                sender: Sender = self.repository.get(sender_id(name))
            except AggregateNotFoundError:
                sender = Sender(name=name)
            if not command(sender):
                return False
            try:
                self._save_and_notify(sender)
            except RecordConflictError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                _back_off(attempt)
                continue
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    def construct_mapper(self) -> Mapper[UUID]:
        if self._mapper_factory is None:
            return super().construct_mapper()
        return self._mapper_factory(self.construct_transcoder())

    def _save_and_notify(self, *aggregates: Aggregate) -> None:
        if self.data_keys is not None:  # every key this save seals with, in one batch
            self.data_keys.ensure(_sealing_ids(aggregates))
        recordings = self.save(*aggregates)
        last = max(r.notification.id for r in recordings)
        deferred: list[int] | None = getattr(self._local, "deferred", None)
        if deferred is not None:
            deferred.append(last)
        else:
            self.announce(last)

    def announce(self, position: int) -> None:
        """Tell the ``committed`` observers that the log is committed up to ``position``."""
        for observer in self.committed:
            observer(position)

    @contextmanager
    def deferred_notification(self) -> Iterator[list[int]]:
        """Commits in this thread skip the observers and collect their positions instead,
        so the caller can notify later (the group committer overlaps the projections'
        catch-up with the next batch's save)."""
        positions: list[int] = []
        self._local.deferred = positions
        try:
            yield positions
        finally:
            self._local.deferred = None

    def _guess_absent(self, commands: Sequence[tuple[str, Command]]) -> set[str]:
        if self.absent_hint is None or len(commands) < 2:
            return set()
        return self.absent_hint(sorted({address for address, _ in commands}))

    def _load_or_create(self, address: str) -> Address:
        try:
            return self.repository.get(address_id(address))
        except AggregateNotFoundError:
            return Address(address=address)

    # -- reading -----------------------------------------------------------------------------

    def history(self, address: str) -> list[Any]:
        """Every event of the address, oldest first (empty for an address never seen)."""
        return list(self.events.get(address_id(address)))

    def standing(self, address: str, until: datetime | None = None) -> Standing:
        """Fold the address's events (those recorded up to ``until``) under the policy."""
        events = self.history(address)
        if until is not None:
            events = [e for e in events if e.timestamp <= until]
        return fold(events, self.policy)

    def verdict(self, address: str, until: datetime | None = None) -> Verdict:
        return verdict(self.standing(address, until), self.policy)


def _sealing_ids(aggregates: Sequence[Aggregate]) -> set[UUID]:
    """The addresses whose keys seal these aggregates' events (the other address of an
    email change too)."""
    ids: set[UUID] = set()
    for aggregate in aggregates:
        if not isinstance(aggregate, Address):
            continue
        ids.add(aggregate.id)
        for pending in aggregate.pending_events:
            other = getattr(pending, "new_address", None) or getattr(pending, "old_address", None)
            if isinstance(other, str):
                ids.add(address_id(other))
    return ids


def _back_off(attempt: int) -> None:
    """Jitter before retrying a conflict: SQLite's busy handler is not first-come-first-served,
    so a writer that lost the race must step aside or the winner can starve it."""
    time.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 7)))


def _required(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidCommand(f"{name} is required")
    return text
