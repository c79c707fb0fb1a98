"""Outgoing webhooks for the API, the console and the CLI: what admins may do, and the retry
policy of deliveries.

``Webhooks`` checks what an admin asks for (the URL rules of SPEC §11, known event types)
and turns the stores' errors into ours; ``backoff`` is the delay before a failed delivery is
tried again. ``api.webhooks`` builds both from the settings with the dispatcher, which sends.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.webhook_endpoints import Endpoint, EndpointNotFound, EndpointStore, Listeners
from adapters.webhook_http import Resolver, TargetRefused, check_url, resolve
from adapters.webhook_outbox import DeliveryErased as StoredErased
from adapters.webhook_outbox import DeliveryNotFound, Outbox
from domain.errors import DeliveryErased, InvalidWebhook, WebhookNotFound
from domain.notifications import EVENT_TYPES
from domain.text import storable

MAX_DESCRIPTION = 500


@dataclass
class Webhooks:
    """What admins do with webhooks; every method checks its input first."""

    endpoints: EndpointStore
    outbox: Outbox
    wake: Callable[[], None]  # the dispatcher: something is due now
    listeners: Listeners
    https_only: bool
    allow_private: bool
    overlap: timedelta
    resolver: Resolver = field(default=socket.getaddrinfo)

    def add(self, url: str, events: Sequence[str], *, actor: str,
            description: str | None = None) -> tuple[Endpoint, str]:
        """Register an endpoint; returns it and its secret (shown this once)."""
        url = storable(url)
        self.check_target(url)
        chosen = self.check_events(events)
        text = storable((description or "").strip()) or None
        if text is not None and len(text) > MAX_DESCRIPTION:
            raise InvalidWebhook(f"description is longer than {MAX_DESCRIPTION} characters")
        added = self.endpoints.add(url.strip(), chosen, description=text, actor=actor,
                                   now=datetime.now(UTC))
        self.listeners.refresh()
        return added

    def check_target(self, url: str) -> None:
        """The URL rules, and every address its host resolves to (private ones refused)."""
        try:
            parts = check_url(url, https_only=self.https_only)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            resolve(parts.hostname or "", port, allow_private=self.allow_private,
                    resolver=self.resolver)
        except TargetRefused as refused:
            raise InvalidWebhook(str(refused)) from None

    @staticmethod
    def check_events(events: Sequence[str]) -> list[str]:
        chosen = list(dict.fromkeys(e.strip() for e in events))
        unknown = [e for e in chosen if e not in EVENT_TYPES]
        if unknown or not chosen:
            raise InvalidWebhook(f"events must be one or more of {', '.join(EVENT_TYPES)}"
                                 + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        return chosen

    def get(self, endpoint_id: str) -> Endpoint:
        try:
            return self.endpoints.get(endpoint_id)
        except EndpointNotFound:
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}") from None

    def remove(self, endpoint_id: str) -> None:
        try:
            self.endpoints.remove(endpoint_id)
        except EndpointNotFound:
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}") from None
        self.listeners.refresh()

    def change(self, endpoint_id: str, *, events: Sequence[str] | None = None,
               enabled: bool | None = None) -> Endpoint:
        chosen = self.check_events(events) if events is not None else None
        try:
            endpoint = self.endpoints.change(endpoint_id, events=chosen, enabled=enabled,
                                             now=datetime.now(UTC))
        except EndpointNotFound:
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}") from None
        if enabled:
            self.wake()
        return endpoint

    def rotate(self, endpoint_id: str) -> tuple[str, str]:
        """A new secret; the old one keeps signing beside it for ``overlap``."""
        try:
            return self.endpoints.rotate(endpoint_id, overlap=self.overlap,
                                         now=datetime.now(UTC))
        except EndpointNotFound:
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}") from None

    def deliveries(self, endpoint_id: str, *, limit: int = 50, before: int | None = None,
                   state: str | None = None) -> list[dict[str, Any]]:
        self.get(endpoint_id)
        return self.outbox.deliveries(endpoint_id, limit=limit, before=before, state=state)

    def resend(self, endpoint_id: str, delivery_id: str) -> None:
        try:
            self.outbox.resend(endpoint_id, delivery_id, datetime.now(UTC))
        except DeliveryNotFound:
            raise WebhookNotFound(f"no delivery {delivery_id!r} for {endpoint_id!r}") from None
        except StoredErased:
            raise DeliveryErased("the delivery's address was erased: its payload is gone and "
                                 "it cannot be sent again") from None
        self.wake()


def backoff(base_s: float, cap_s: float) -> Callable[[int, float | None], float]:
    """Delay before the next attempt after ``attempts`` failures: exponential, capped, with
    equal jitter (half fixed, half random) so receivers recovering from an outage are not
    hit by every sender at once; a ``Retry-After`` is honoured up to the cap."""
    def delay(attempts: int, retry_after: float | None) -> float:
        step = min(cap_s, base_s * 2 ** (attempts - 1))
        jittered = step / 2 + random.uniform(0, step / 2)
        return max(jittered, min(retry_after, cap_s)) if retry_after else jittered

    return delay
