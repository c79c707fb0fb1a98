"""The composition root: builds the ledger, the views and the clients from ``Settings``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import redis

from adapters.event_log import EventLog
from adapters.event_store import SqlEventStore
from adapters.rate_limit import rate_limiter
from adapters.redis_cache import MessageMapCache, StatusCache
from adapters.ses import SesTransport, ses_client
from adapters.ses_sync_store import SesSyncStore
from adapters.shredding import ShreddingMapper, SqlKeyStore, secure_delete
from adapters.sns import SnsVerifier
from adapters.sns_certs import CertificateStore, confirm_subscription
from adapters.sql import Database, DatabaseUrl, open_database, schema_lock
from api.application.ingest import Counters, Ingest
from api.application.sender_rules import SenderRules
from api.application.sending import Sending
from api.application.ses_sync import SesSync
from api.application.webhooks import Webhooks
from api.group_commit import DirectCommitter, GroupCommitter
from api.metrics import PROJECTION_QUARANTINED, REPORTS, SNS_MESSAGES
from api.ses_sync import Pusher, build_ses_sync
from api.settings import Settings
from api.tokens import TokenStore
from api.webhook_dispatch import Dispatcher
from api.webhooks import build_webhooks
from domain.addresses import address_id
from domain.errors import ErasureIncomplete
from domain.ledger import Ledger
from domain.sender import SenderPolicy
from projections.base import Applied, Follower, Projector, View, decode_with
from projections.email_status import EmailStatusView
from projections.message_map import MessageLookup, MessageMapView
from projections.pipeline import Pipeline, Reaction
from projections.profiles import ProfilesView
from projections.queries import StatusReader
from projections.rebuild import Outcome, Progress, Rebuild
from projections.sender_rejections import SenderRejectionsView
from projections.senders import SenderReader, SendersView
from projections.ses_push import SesPushView
from projections.status_changes import StatusChanges
from projections.status_mirror import MirrorMarks, StatusLookup, StatusMirror
from projections.webhooks import NotReplayable, WebhookView

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request, a command or a job needs; ``close`` releases it."""

    settings: Settings
    ledger: Ledger
    db: Database
    projector: Projector
    reader: StatusReader
    tokens: TokenStore
    status_view: EmailStatusView
    message_map: MessageMapView
    statuses: StatusLookup
    messages: MessageLookup
    senders: SenderReader
    ingest: Ingest
    committer: GroupCommitter
    http: httpx.Client
    redis: redis.Redis | None = None
    mirror: StatusMirror | None = None
    follower: Follower | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    sending: Sending | None = None
    webhooks: Webhooks | None = None
    dispatcher: Dispatcher | None = None
    _dispatching: bool = False
    ses_store: SesSyncStore | None = None
    ses_pushed: threading.Event = field(default_factory=threading.Event, repr=False)
    _ses_sync: SesSync | None = None
    _pusher: Pusher | None = None
    _email_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def email(self) -> Sending:
        """The send service, built on first use (creating a boto3 client takes a while)."""
        with self._email_lock:
            if self.sending is None:
                self.sending = build_sending(self)
            return self.sending

    def start_follower(self, interval: float = 1.0) -> None:
        """Follow the log for events other processes write, and repair the Redis mirror."""
        if self.follower is None:
            also: list[Callable[[], object]] = [self.quarantined,
                                                self.ledger.store.prune_reports]  # type: ignore[attr-defined]
            if self.mirror is not None:
                also.append(self.mirror.sync)
            self.follower = Follower(self.projector, interval, also)
            self.follower.start()

    def event_log(self) -> EventLog:
        """The stored event rows, for whole-log reads (export, rebuild)."""
        return EventLog.of(DatabaseUrl.parse(self.settings.database_url), self.ledger.recorder)

    def start_dispatcher(self) -> None:
        """Send outgoing webhooks (``WEBHOOK_DISPATCH``) and push to SES's suppression list
        (``SES_SUPPRESSION_SYNC`` push or both) from this process."""
        if self.dispatcher is not None and self.settings.webhook_dispatch \
                and not self._dispatching:
            self._dispatching = True
            self.dispatcher.start()
        if self.settings.ses_push and self._pusher is None:
            self._pusher = Pusher(self.ses_sync(), self.ses_pushed)
            self._pusher.start()

    def ses_sync(self) -> SesSync:
        """The SES suppression sync, built on first use (a boto3 client takes a while)."""
        with self._email_lock:
            if self._ses_sync is None:
                settings = self.settings
                if self.ses_store is None:
                    raise ValueError("BOUNCELEDGER_SES_SUPPRESSION_SYNC is off")
                limiter = rate_limiter(settings.ses_sync_rate, self.redis,
                                       settings.redis_prefix, name="suppression-rate")
                self._ses_sync = build_ses_sync(
                    self.ledger, self.ses_store, self.projector.catch_up, limiter,
                    region=settings.aws_region, endpoint_url=settings.aws_endpoint_url,
                    push=settings.ses_push, pull=settings.ses_pull,
                    lease_s=settings.ses_sync_lease_s)
            return self._ses_sync

    def rebuild(self, name: str, *, verify: bool = False, restart: bool = False,
                progress: Progress | None = None, batch_size: int = 5000,
                workers: int = 1) -> Outcome:
        """Rebuild one view beside the live one and swap it in (or only compare, ``verify``);
        after a swap of ``email_status`` the Redis mirror is rewritten. ``workers``
        processes fold the first pass where they can (``projections.workers``)."""
        view = next((v for v in self.projector.views if v.name == name), None)
        if view is None:
            raise KeyError(name)
        if not getattr(view, "replayable", True):
            raise NotReplayable(f"{name} is an outbox: rebuilding it would send its history "
                                "again")
        outcome = Rebuild(self.ledger, self.db, view, batch_size, self.event_log(),
                          workers).run(
            verify=verify, restart=restart, progress=progress,
            live_catch_up=self.projector.catch_up)
        if outcome.swapped and name == self.status_view.name and self.mirror is not None:
            self.mirror.refresh()
        return outcome

    def quarantined(self) -> list[dict[str, Any]]:
        """Addresses a view could not apply, and why (also sets the metric)."""
        with self.db.read() as cur:
            found = self.projector.quarantine.list(cur)
        PROJECTION_QUARANTINED.set(len(found))
        return found

    def repair(self, address: str | None = None) -> list[dict[str, Any]]:
        """Apply a quarantined address's waiting events again (or every one's); returns
        what is still quarantined."""
        remaining = self.projector.repair(address_id(address) if address else None)
        PROJECTION_QUARANTINED.set(len(remaining))
        if self.mirror is not None:
            self.mirror.sync()
        return remaining

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        if self.webhooks is not None:
            self.webhooks.listeners.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self._pusher is not None:
            self._pusher.stop()
        if self._ses_sync is not None:
            self._ses_sync.remote.ses.close()
        self.committer.close()
        self.http.close()
        if self.sending is not None:
            self.sending.transport.close()
        self.ledger.close()
        self.db.close()
        if "keys" in self.extras:
            self.extras["keys"].db.close()
        if self.redis is not None:
            self.redis.close()


def build_sending(services: Services, ses: Any | None = None) -> Sending:
    """The send service over SES v2 from the settings: region, endpoint, configuration set,
    the shared send rate; ``ses`` a boto3 ``sesv2`` client of the caller's (the demo's)."""
    settings = services.settings
    transport = SesTransport(
        ses or ses_client(settings.aws_region, settings.aws_endpoint_url),
        rate_limiter(settings.ses_max_send_rate, services.redis, settings.redis_prefix),
        configuration_set=settings.ses_configuration_set)
    return Sending(services.statuses, services.ledger, transport, senders=services.senders)


def build_ingest(settings: Settings, http: httpx.Client, committer: GroupCommitter) -> Ingest:
    certificates = CertificateStore(http, settings.sns_cert_dir or None)
    verifier = SnsVerifier(settings.topic_patterns(), certificates, settings.sns_max_age_s)
    confirm = ((lambda url: confirm_subscription(http, url)) if settings.sns_auto_confirm
               else None)
    accounts = [a.strip() for a in settings.ses_account_ids.split(",") if a.strip()]
    counters = Counters(
        message=lambda path, outcome: SNS_MESSAGES.labels(path, outcome).inc(),
        reports=lambda kind, result, count: REPORTS.labels(kind, result).inc(count))
    return Ingest(verifier, committer, confirm, accounts, counters)


@dataclass
class WritePath:
    """What the write pipeline is built from (``projections.pipeline``), top to bottom."""

    db: Database
    keys: SqlKeyStore
    views: list[View]
    observers: list[Callable[[Applied], None]]
    reactions: list[Reaction]
    outage_budget_s: float = 8.0

    def pipeline(self, ledger: Ledger) -> Pipeline:
        events = SqlEventStore(self.db.dialect, _table(ledger.recorder),
                               _table(ledger.snapshots.recorder if ledger.snapshots else None))
        projector = Projector(self.db, events, decode_with(ledger.mapper), self.views,
                              observers=self.observers)
        return Pipeline(self.db, events, self.keys, ledger.mapper, projector,
                        reactions=self.reactions, outage_budget_s=self.outage_budget_s)


def _table(recorder: object) -> str:
    """The table a library recorder writes (snapshotting is on in ``DatabaseUrl``)."""
    name = getattr(recorder, "events_table_name", None)
    assert isinstance(name, str), "the library's recorders name their tables"
    return name


def build_ledger(settings: Settings, url: DatabaseUrl, path: WritePath,
                 on_erased: Sequence[Callable[[str, UUID], object]] = ()) -> Ledger:
    """The ledger with crypto-shredding (address events sealed with per-address keys) and
    its write pipeline. The key store has connections of its own: keys are read while a
    catch-up's write transaction decodes events, which SQLite cannot nest on one
    connection."""
    path.keys.create_table()
    ledger = Ledger(url.eventsourcing_env(), settings.policy(),
                    mapper_factory=lambda transcoder: ShreddingMapper(transcoder, path.keys),
                    store_factory=path.pipeline,
                    erasure_key=settings.erasure_key.get_secret_value().encode() or None,
                    on_erased=on_erased)
    secure_delete(ledger)
    return ledger


def build_services(settings: Settings) -> Services:
    url = DatabaseUrl.parse(settings.database_url)
    db = open_database(url)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=0.5,
                                  socket_connect_timeout=0.5) if settings.redis_url else None
    cache = StatusCache(client, settings.redis_prefix) if client else None
    reader = StatusReader(db, settings.erasure_key.get_secret_value().encode() or None)
    marks = MirrorMarks(db)
    mirror = StatusMirror(reader, cache, marks) if cache else None
    ttl = int(settings.message_map_ttl_days * 86400)
    messages = MessageLookup(
        reader.sends_many, MessageMapCache(client, ttl, settings.redis_prefix) if client else None)
    changes = StatusChanges()  # email_status's status changes, for the outbox views
    status_view = EmailStatusView(settings.policy(), changes=changes)
    message_map = MessageMapView(on_sent=messages.remember, on_forget=messages.forget)
    senders_view = SendersView()
    keys = SqlKeyStore(open_database(url, pool_size=4))
    webhooks, dispatcher = build_webhooks(settings, db)
    ses_pushed = threading.Event()
    views: list[View] = [status_view, ProfilesView(), message_map, senders_view,
                         SenderRejectionsView(),
                         WebhookView(changes, webhooks.listeners, dispatcher.wake)]
    if settings.ses_push:  # registered only where push is on: see projections/ses_push.py
        views.append(SesPushView(changes, ses_pushed.set))
    path = WritePath(db, keys, views,
                     observers=[mirror.observe] if mirror else [],
                     reactions=[SenderRules(senders_view, SenderPolicy())],
                     outage_budget_s=settings.store_outage_budget_s)
    erased: list[Callable[[str, UUID], object]] = []
    if cache is not None:
        erased.append(lambda address, _id: _forget_status(cache, address))
    erased.append(lambda _address, _id: db.checkpoint())
    with schema_lock(url):
        ledger = build_ledger(settings, url, path, erased)
        pipeline: Pipeline = ledger.store  # type: ignore[assignment]
        projector = pipeline.projector
        projector.create_tables()
        pipeline.create_tables()
        marks.create()
        tokens = TokenStore(db)
        tokens.create_table()
        ses_store = SesSyncStore(db) if settings.ses_suppression_sync != "off" else None
        if ses_store is not None:
            ses_store.create_tables()
    if tokens.bootstrap(settings.bootstrap_token.get_secret_value()):
        log.info("registered BOUNCELEDGER_BOOTSTRAP_TOKEN as admin token 'bootstrap'")
    senders = SenderReader(db)
    http = httpx.Client(verify=True, follow_redirects=False, timeout=5.0)
    committer = (GroupCommitter(ledger.record, lookup=messages.infos, pin=db.pinned)
                 if settings.ingest_group_commit
                 else DirectCommitter(ledger.record, lookup=messages.infos,
                                      serialize=url.dialect == "sqlite"))
    services = Services(settings, ledger, db, projector, reader, tokens, status_view,
                        message_map, StatusLookup(reader, cache, marks), messages, senders,
                        build_ingest(settings, http, committer), committer, http,
                        client, mirror)
    services.extras["keys"] = keys
    services.webhooks, services.dispatcher = webhooks, dispatcher
    webhooks.listeners.start()
    services.ses_store, services.ses_pushed = ses_store, ses_pushed
    projector.catch_up()
    if mirror is not None:
        mirror.sync()
    return services


def _forget_status(cache: StatusCache, address: str) -> None:
    try:
        cache.forget(address)
    except redis.RedisError as error:
        raise ErasureIncomplete(
            f"the erasure is recorded, but Redis failed ({type(error).__name__}) while its "
            "status entry was deleted: repeat the request") from error
