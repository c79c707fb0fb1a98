"""The ledger application: the only write path for address events.

Every command runs inside one ``Store`` transaction (``projections.pipeline``): the
aggregates are loaded there (snapshot plus the events after it), changed, and saved there,
with the views, in one commit. The ledger decides; the store only stores.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoder,
    UUIDAsHex,
)

from domain.address import Address, report_key
from domain.addresses import address_id
from domain.errors import AddressNotFound, ConsentRequired, ErasureUnavailable, InvalidCommand
from domain.policy import COMPLAINED, Policy, Standing, Verdict, fold, grace_expired, verdict
from domain.redaction import erased_hash
from domain.reports import Report
from domain.seen import SeenReportsAsDict
from domain.sender import Judgement, Sender, sender_id
from domain.text import storable

Command = Callable[[Address], bool]
T = TypeVar("T")


class Batch(Protocol):
    """One write transaction of the store."""

    def load(self, ids: Collection[UUID]) -> Mapping[UUID, Aggregate]: ...
    def recorded(self, keys: Collection[tuple[UUID, str]]) -> set[tuple[UUID, str]]: ...
    def save(self, aggregates: Sequence[Aggregate]) -> None: ...
    def standing(self, originator: UUID, policy: Policy) -> Standing: ...
    def shred(self, originator: UUID) -> None: ...


class Store(Protocol):
    """Runs a unit of work in one transaction (retrying it as needed) and commits it."""

    def run(self, work: Callable[[Batch], T]) -> T: ...


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """What the ledger's stored JSON holds beside plain values: the library's own
    (uuid, decimal, datetime) and the seen reports. Also for readers without a ledger
    (the export's worker processes)."""
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), SeenReportsAsDict()):
        transcoder.register(transcoding)


class Ledger(Application[UUID]):
    """Records facts about addresses; every change is an event on an ``Address``."""

    name = "bounceledger"

    def __init__(self, env: Mapping[str, str], policy: Policy | None = None, *,
                 mapper_factory: Callable[[Transcoder], Mapper[UUID]] | None = None,
                 store_factory: Callable[[Ledger], Store] | None = None,
                 erasure_key: bytes | None = None,
                 on_erased: Sequence[Callable[[str, UUID], object]] = ()) -> None:
        """``store_factory`` builds the store from the ledger (it needs the mapper); the
        ``on_erased`` steps run after an erasure commits (caches to clean)."""
        # Set before ``super().__init__``, which calls ``construct_mapper``.
        self._mapper_factory = mapper_factory
        super().__init__(dict(env))
        self.policy = policy or Policy()
        self.erasure_key = erasure_key
        self.on_erased = list(on_erased)
        if store_factory is None:
            raise ValueError("the ledger needs a store (projections.pipeline.Pipeline)")
        self.store = store_factory(self)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_transcodings(transcoder)

    def construct_mapper(self) -> Mapper[UUID]:
        if self._mapper_factory is None:
            return super().construct_mapper()
        return self._mapper_factory(self.construct_transcoder())

    # -- writing -----------------------------------------------------------------------------

    def record(self, *reports: Report) -> list[bool]:
        """Store reports in one transaction; ``False`` marks a duplicate that changed nothing."""
        return self.apply_commands([(r.address, _recording(r)) for r in reports],
                                   keys=[(r.address, r.key) for r in reports if r.key])

    def reset(self, address: str, *, actor: str, reason: str, consent: str | None,
              is_admin: bool, occurred_at: datetime, source: str) -> None:
        """Return the address to ``ok``; lifting a complaint needs an admin and consent."""
        actor, reason = storable(actor), _required(reason, "reason")
        consent = storable((consent or "").strip()) or None

        def work(batch: Batch) -> None:
            agg = _one(batch, address)
            if self._verdict(batch, agg).status == COMPLAINED and not (is_admin and consent):
                raise ConsentRequired(
                    "a complaint is the recipient's own word: lifting it needs the admin role "
                    "and a consent note")
            agg.reset(actor=actor, reason=reason, consent=consent, occurred_at=occurred_at,
                      source=source)
            batch.save([agg])

        self.store.run(work)

    def suppress(self, address: str, *, actor: str, reason: str,
                 occurred_at: datetime, source: str) -> None:
        """Block the address by an operator's decision."""
        actor, reason = storable(actor), _required(reason, "reason")
        self.apply_commands([(address, lambda a: a.suppress(
            actor=actor, reason=reason, occurred_at=occurred_at, source=source,
        ))])

    def import_suppressions(self, entries: Sequence[tuple[str, str]], *, actor: str,
                            occurred_at: datetime) -> list[bool]:
        """Suppress ``(address, reason)`` pairs in one transaction; a rerun changes nothing."""
        actor = storable(actor)

        def command(reason: str) -> Command:
            return lambda agg: agg.suppress(actor=actor, reason=reason, occurred_at=occurred_at,
                                            source="import")

        commands = [(address, command(_required(reason, "reason")))
                    for address, reason in entries]
        return self.apply_commands(commands, keys=[
            (address, report_key("import", _required(reason, "reason")))
            for address, reason in entries])

    def escalate(self, address: str, *, now: datetime, source: str = "job") -> bool:
        """Turn a soft-bounce streak older than the grace period into ``bounced``.

        Decided from the address's own events, so running the job twice changes nothing.
        """
        def work(batch: Batch) -> bool:
            agg = batch.load([address_id(address)]).get(address_id(address))
            if not isinstance(agg, Address):
                return False
            expired = grace_expired(batch.standing(agg.id, self.policy), self.policy, now)
            if expired is None or expired.since is None:
                return False
            agg.record_soft_bounce_escalated(streak_since=expired.since,
                                             diagnostic=expired.diagnostic, occurred_at=now,
                                             source=source)
            batch.save([agg])
            return True

        return self.store.run(work)

    def change_email(self, profile_id: str, *, old_address: str | None, new_address: str,
                     actor: str | None, occurred_at: datetime, source: str) -> bool:
        """Move a profile to ``new_address``; both addresses are saved in one transaction."""
        profile_id = _required(profile_id, "profile_id")
        actor = storable(actor) if actor is not None else None
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
        as a keyed hash. The data key and the snapshots go in the transaction that records
        ``Erased``. ``False`` when it was already erased (the clean-up after the commit runs
        again, so a retry completes an erasure that failed half-way). Unknown:
        ``AddressNotFound``."""
        actor, reason = storable(actor), _required(reason, "reason")
        if self.erasure_key is None:
            raise ErasureUnavailable(
                "erasure needs BOUNCELEDGER_ERASURE_KEY (the key of the hash that keeps a block)")
        key, originator = self.erasure_key, address_id(address)

        def work(batch: Batch) -> bool:
            agg = batch.load([originator]).get(originator)
            if not isinstance(agg, Address):
                raise AddressNotFound(f"{address} has never been recorded")
            # Folded in this transaction: a report that won the race (a hard bounce arriving
            # now) is in the status the erasure keeps.
            now = self._verdict(batch, agg)
            erased = agg.erase(
                actor=actor, reason=reason, status=now.status, blocked=not now.sendable,
                address_hash=None if now.sendable else erased_hash(key, address),
                occurred_at=occurred_at, source=source)
            batch.save([agg])
            batch.shred(originator)
            return erased

        erased = self.store.run(work)
        for step in self.on_erased:
            step(address, originator)
        return erased

    def apply_commands(self, commands: Sequence[tuple[str, Command]], *,
                       revive: bool = True,
                       keys: Sequence[tuple[str, str]] = ()) -> list[bool]:
        """Run commands on their aggregates and save them all in one transaction.

        ``keys`` are the ``(address, report key)`` pairs the commands may record: which of
        them are already recorded is read from the store's report index, once for the batch
        (the aggregates' snapshots do not carry that memory). A command on an erased address
        first records ``RegisteredAgain`` (unless ``revive`` is false): the new facts must
        name the address again for the views."""
        return self.store.run(lambda batch: _apply(batch, commands, revive, keys))

    def judge_sender(self, name: str, judgement: Judgement, *, occurred_at: datetime) -> bool:
        """Move a sender to the state the rules give (a pause waits for an admin)."""
        return self.store.run(lambda batch: bool(judge_senders(
            batch, {name: (judgement, occurred_at)})))

    def resume_sender(self, name: str, *, actor: str, reason: str, occurred_at: datetime,
                      source: str) -> bool:
        """An admin lets a warned or paused sender send again."""
        actor, reason = storable(actor), storable(reason)

        def work(batch: Batch) -> bool:
            sender = _sender(batch, name)
            if not sender.resume(actor=actor, reason=reason, occurred_at=occurred_at,
                                 source=source):
                return False
            batch.save([sender])
            return True

        return self.store.run(work)

    def _verdict(self, batch: Batch, agg: Address) -> Verdict:
        return verdict(batch.standing(agg.id, self.policy), self.policy)

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


def judge_senders(batch: Batch, judgements: Mapping[str, tuple[Judgement, datetime]]) -> int:
    """Record each sender's new state, where the rules moved it (in the caller's batch).
    Returns how many changed."""
    ids = {sender_id(name) for name in judgements}
    loaded = batch.load(ids)
    changed = []
    for name, (judgement, moment) in sorted(judgements.items()):
        found = loaded.get(sender_id(name))
        sender = found if isinstance(found, Sender) else Sender(name=name)
        if sender.apply_judgement(judgement, occurred_at=moment):
            changed.append(sender)
    batch.save(changed)
    return len(changed)


def sealing_ids(aggregates: Sequence[Aggregate], events: Sequence[Any]) -> set[UUID]:
    """The addresses whose keys seal these events: each address, and the other address of
    an email change."""
    ids = {a.id for a in aggregates if isinstance(a, Address)}
    for event in events:
        other = getattr(event, "new_address", None) or getattr(event, "old_address", None)
        if isinstance(other, str):
            ids.add(address_id(other))
    return ids


def _apply(batch: Batch, commands: Sequence[tuple[str, Command]], revive: bool,
           keys: Sequence[tuple[str, str]]) -> list[bool]:
    loaded = batch.load({address_id(address) for address, _ in commands})
    recorded: dict[UUID, list[str]] = {}
    for originator, key in batch.recorded({(address_id(a), k) for a, k in keys}) if keys else ():
        recorded.setdefault(originator, []).append(key)
    aggregates: dict[str, Address] = {}
    touched: set[str] = set()
    results = []
    for address, command in commands:
        if address not in aggregates:
            found = loaded.get(address_id(address))
            agg = found if isinstance(found, Address) else Address(address=address)
            if keys:
                agg.recall(recorded.get(agg.id, ()))
            if revive:
                agg.register_again(address=address)
            aggregates[address] = agg
        results.append(command(aggregates[address]))
        if results[-1]:
            touched.add(address)
    # An address no command changed is not saved (not even a new one's Registered).
    batch.save([a for address, a in aggregates.items() if address in touched])
    return results


def _recording(report: Report) -> Command:
    return lambda agg: agg.record(report)


def _one(batch: Batch, address: str) -> Address:
    found = batch.load([address_id(address)]).get(address_id(address))
    agg = found if isinstance(found, Address) else Address(address=address)
    agg.register_again(address=address)
    return agg


def _sender(batch: Batch, name: str) -> Sender:
    found = batch.load([sender_id(name)]).get(sender_id(name))
    return found if isinstance(found, Sender) else Sender(name=name)


def _required(value: str | None, name: str) -> str:
    text = storable((value or "").strip())
    if not text:
        raise InvalidCommand(f"{name} is required")
    return text
