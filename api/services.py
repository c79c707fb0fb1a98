"""The composition root: builds the ledger, the views and the clients from ``Settings``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import redis

from adapters.sql import Database, DatabaseUrl, open_database
from api.settings import Settings
from api.tokens import TokenStore
from domain.ledger import Ledger
from projections.base import Follower, Projector
from projections.email_status import EmailStatusView
from projections.message_map import MessageMapView
from projections.profiles import ProfilesView
from projections.queries import StatusReader

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
    redis: redis.Redis | None = None
    follower: Follower | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def start_follower(self, interval: float = 1.0) -> None:
        """Follow the log for events other processes write (needed with PostgreSQL)."""
        if self.follower is None:
            self.follower = Follower(self.projector, interval)
            self.follower.start()

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self.ledger.close()
        self.db.close()
        if self.redis is not None:
            self.redis.close()


def build_services(settings: Settings) -> Services:
    url = DatabaseUrl.parse(settings.database_url)
    db = open_database(url)
    ledger = Ledger(url.eventsourcing_env(), settings.policy())
    status_view, message_map = EmailStatusView(ledger.policy), MessageMapView()
    projector = Projector(ledger, db, [status_view, ProfilesView(), message_map])
    projector.create_tables()
    ledger.committed.append(lambda position: projector.catch_up(upto=position))
    tokens = TokenStore(db)
    tokens.create_table()
    if tokens.bootstrap(settings.bootstrap_token.get_secret_value()):
        log.info("registered BOUNCELEDGER_BOOTSTRAP_TOKEN as admin token 'bootstrap'")
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=0.5,
                                  socket_connect_timeout=0.5) if settings.redis_url else None
    reader = StatusReader(db)
    ledger.absent_hint = reader.unknown
    services = Services(settings, ledger, db, projector, reader, tokens,
                        status_view, message_map, client)
    projector.catch_up()
    return services
