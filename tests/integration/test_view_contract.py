"""One contract every view of the projector keeps, on SQLite and PostgreSQL.

For each view registered by ``build_services`` (the outbox views with SES sync and an
endpoint on, so they have something to do), over one ledger with every event type:

- apply: the live pipeline gives the view rows;
- idempotence: catching up again, and replaying the log from the view's own position,
  change nothing (exactly once);
- rebuild ≡ live: a rebuild from the first event equals the live tables (views that can be
  rebuilt; an outbox cannot: that would send its history again);
- erase: after an erasure no row of the view names the address or its profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.services import Services, build_services
from domain.reports import Blocked, Bounce, Complaint, Delay, Delivery, Rejection, Sent
from projections.base import View
from tests.conftest import make_settings

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ERASED, PROFILE = "contract-erased@example.com", "contract-profile-erased"
OUTBOX_TABLES = {"webhooks": ("webhook_deliveries",), "ses_push": ("ses_push_outbox",)}


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url, erasure_key="contract-key-" + "x" * 20,
                                         ses_suppression_sync="push",
                                         webhook_allow_private=True))
    assert built.webhooks is not None
    built.webhooks.add("http://127.0.0.1:9/in", ["address.blocked", "address.unblocked",
                                                 "address.sender_rejected", "address.erased"],
                       actor="test")
    yield built
    built.close()


def every_event_type(services: Services) -> None:
    """A ledger with every kind of fact, two addresses involved in each."""
    ledger, t = services.ledger, NOW
    for n, address in enumerate(("contract-a@example.com", ERASED)):
        at = t + timedelta(hours=n)
        profile = PROFILE if address == ERASED else "contract-profile-a"
        ledger.record(Sent(address, f"m{n}", at, "api", sender="acme", profile_id=profile),
                      Delivery(address, f"m{n}", at, "sns", sender="acme"),
                      Delay(address, f"m{n}", at, "sns", sender="acme"),
                      Bounce(address, f"soft{n}", "Transient", "General", at, "sns",
                             sender="acme", diagnostic="452 4.2.2 mailbox full"),
                      Bounce(address, f"rej{n}", "Permanent", "General", at, "sns",
                             sender="acme", diagnostic="550 5.7.1 blocked using "
                             "zen.spamhaus.org"),
                      Rejection(address, f"m{n}", at, "sns", reason="virus", sender="acme"),
                      Bounce(address, f"hard{n}", "Permanent", "General", at, "sns",
                             sender="acme", diagnostic=f"550 5.1.1 {address} unknown"),
                      Complaint(address, f"c{n}", at, "sns", feedback_type="abuse",
                                sender="acme"),
                      Blocked(address, "bounced", at, "api", sender="acme"))
        ledger.reset(address, actor="ops", reason="fixed", consent="asked by phone",
                     is_admin=True, occurred_at=at, source="api")
        ledger.suppress(address, actor="ops", reason="asked", occurred_at=at, source="api")
    ledger.change_email("contract-profile-a", old_address="contract-a@example.com",
                        new_address=ERASED,
                        actor="ops", occurred_at=t, source="api")
    ledger.import_suppressions([("contract-b@example.com", "list")], actor="ops",
                               occurred_at=t)
    ledger.escalate("contract-a@example.com", now=t + timedelta(days=30))


def tables_of(view: View) -> tuple[str, ...]:
    return tuple(getattr(view, "tables", ()) or OUTBOX_TABLES[view.name])


def snapshot(services: Services, view: View) -> dict[str, list[Any]]:
    with services.db.read() as cur:
        found = {}
        for table in tables_of(view):
            cur.execute(f"SELECT * FROM {table}")
            found[table] = sorted(map(repr, cur.fetchall()))
        return found


def names(services: Services) -> list[str]:
    return [view.name for view in services.projector.views]


@pytest.mark.parametrize("name", ["email_status", "profiles", "message_map", "senders",
                                  "sender_rejections", "webhooks", "ses_push"])
def test_every_view_keeps_the_contract(services: Services, name: str) -> None:
    assert set(names(services)) >= {name}, "a view the contract covers is not registered"
    view = next(v for v in services.projector.views if v.name == name)
    every_event_type(services)
    live = snapshot(services, view)
    assert any(live.values()), f"{name} got no rows from the ledger"

    services.projector.catch_up()  # exactly once: nothing is applied twice
    with services.db.write() as cur:  # the log again, from the view's own position
        cur.execute("SELECT position FROM projection_tracking WHERE name = ?", (name,))
        position = cur.fetchone()[0]
    services.projector.catch_up()
    assert snapshot(services, view) == live
    with services.db.read() as cur:
        cur.execute("SELECT position FROM projection_tracking WHERE name = ?", (name,))
        assert cur.fetchone()[0] == position

    if getattr(view, "replayable", True):
        services.rebuild(name)
        assert snapshot(services, view) == live, f"{name}: rebuild differs from live"

    services.ledger.erase(ERASED, actor="ops", reason="asked", occurred_at=NOW, source="api")
    text = repr(snapshot(services, view))
    for secret in (ERASED, PROFILE):
        at = text.find(secret)
        assert at < 0, f"{name} still names the erased: {text[max(0, at - 200):at + 80]}"


def test_the_contract_covers_every_registered_view(services: Services) -> None:
    covered = {"email_status", "profiles", "message_map", "senders", "sender_rejections",
               "webhooks", "ses_push"}
    assert set(names(services)) == covered
