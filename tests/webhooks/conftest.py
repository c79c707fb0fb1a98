"""Services with short backoffs, a real local receiver, and ways to change statuses."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.webhook_endpoints import Endpoint
from api.services import Services, build_services
from domain.notifications import EVENT_TYPES
from domain.reports import Bounce
from tests.conftest import make_settings
from tests.webhook_receiver import Receiver

FAST: dict[str, Any] = {"webhook_backoff_s": 0.05, "webhook_backoff_cap_s": 0.2,
                        "webhook_timeout_s": 1.0, "webhook_max_attempts": 5}


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url, **FAST))
    yield built
    built.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def subscribe(services: Services, url: str,
              events: Sequence[str] = EVENT_TYPES) -> tuple[Endpoint, str]:
    assert services.webhooks is not None
    return services.webhooks.add(url, events, actor="test")


def now() -> datetime:
    return datetime.now(UTC)


def suppress(services: Services, address: str, reason: str = "asked") -> None:
    services.ledger.suppress(address, actor="test", reason=reason, occurred_at=now(),
                             source="api")


def reset(services: Services, address: str) -> None:
    services.ledger.reset(address, actor="test", reason="fixed", consent=None, is_admin=True,
                          occurred_at=now(), source="api")


def hard_bounce(services: Services, address: str, feedback_id: str) -> None:
    services.ledger.record(Bounce(address, feedback_id, "Permanent", "General", now(), "sns",
                                  diagnostic="smtp; 550 5.1.1 user unknown"))


def soft_bounce(services: Services, address: str, feedback_id: str) -> None:
    services.ledger.record(Bounce(address, feedback_id, "Transient", "General", now(), "sns",
                                  diagnostic="smtp; 452 4.2.2 mailbox full"))


def deliveries(services: Services, endpoint_id: str) -> list[dict[str, Any]]:
    """Oldest first."""
    assert services.webhooks is not None
    return list(reversed(services.webhooks.deliveries(endpoint_id, limit=500)))


def types(services: Services, endpoint_id: str) -> list[str]:
    return [d["type"] for d in deliveries(services, endpoint_id)]


SPAMHAUS = ("smtp; 550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using "
            "Spamhaus. To request removal from this list see (AS16012611)")


def sender_rejection(services: Services, address: str, feedback_id: str) -> None:
    """A bounce the classifier charges to the sender (blocklisted IP): ``SenderRejected``."""
    services.ledger.record(Bounce(address, feedback_id, "Permanent", "General", now(), "sns",
                                  message_id=f"m-{feedback_id}", diagnostic=SPAMHAUS,
                                  status_code="5.7.1", sender="shop.example"))
