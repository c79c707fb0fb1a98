"""Outgoing webhooks, wired: the stores, the HTTP sender and the dispatcher from the settings.

What admins may do is ``application.webhooks``; the sending is ``api.webhook_dispatch``.
"""

from __future__ import annotations

import socket
from datetime import timedelta

from adapters.sql import Database
from adapters.webhook_endpoints import EndpointStore, Listeners
from adapters.webhook_http import Resolver, WebhookSender
from adapters.webhook_outbox import Outbox, Retrying
from api.application.webhooks import Webhooks, backoff
from api.settings import Settings
from api.webhook_dispatch import Dispatcher


def build_webhooks(settings: Settings, db: Database, resolver: Resolver = socket.getaddrinfo
                   ) -> tuple[Webhooks, Dispatcher]:
    """The admins' service and the (not yet started) dispatcher, over the same stores."""
    sender = WebhookSender(timeout_s=settings.webhook_timeout_s,
                           allow_private=settings.allow_private_webhooks,
                           https_only=settings.webhook_https_only, resolver=resolver)
    rules = Retrying(settings.webhook_max_attempts, settings.webhook_disable_after,
                     backoff(settings.webhook_backoff_s, settings.webhook_backoff_cap_s))
    endpoints, outbox = EndpointStore(db), Outbox(db)
    dispatcher = Dispatcher(outbox, endpoints, sender, rules,
                            concurrency=settings.webhook_concurrency,
                            timeout_s=settings.webhook_timeout_s)
    return Webhooks(endpoints, outbox, dispatcher.wake, Listeners(db),
                    settings.webhook_https_only, settings.allow_private_webhooks,
                    timedelta(hours=settings.webhook_secret_overlap_hours), resolver), dispatcher
