"""The golden export: a small ledger with every event type, and its export as written by the
export before it streamed rows (library event objects, ``json.dumps``).

``tests/analytics/golden/ledger.db`` holds the stored events and data keys (SQLite, sealed
events, two erased addresses), recorded by this module at commit 2d4292e; ``export.jsonl``
is what ``bounceledger export --format jsonl`` wrote from it with main's code at faef542 —
after the classifier, so the bounces (stored before it, class version 1) carry
``failure_class`` and ``rule`` null from the upcaster. The export must keep producing exactly
those bytes, on SQLite and (the stored rows copied over unchanged) on PostgreSQL.

``python -m tests.analytics.golden DIR`` regenerates both files — only with a reason: the
point of the file is that it was written by the old code.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.services import Services, build_services
from domain.reports import Blocked, Bounce, Complaint, Delay, Delivery, Rejection, Sent
from domain.sender import WARNED, Judgement
from tests.conftest import make_settings

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
FOLDER = Path(__file__).parent / "golden"
ERASURE_KEY = "golden-erasure-key"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def play(services: Services) -> None:
    """Every event type of SPEC §4 that the ledger records, with awkward text."""
    ledger = services.ledger
    ledger.record(Sent("ann@example.com", "m1", at(0), "api", sender="news", profile_id="p1"),
                  Sent("bob@faß.de", "m2", at(0), "api", sender="news"),
                  Sent("carl@example.com", "m3", at(0), "api"))
    ledger.record(Delivery("ann@example.com", "m1", at(0.1), "sns", sender="news",
                           reporting_mta="a.mx", smtp_response="250 2.0.0 OK"))
    ledger.record(Delay("ann@example.com", "m1", at(0.2), "sns", delay_type="MailboxFull",
                        expiration_time=at(24), diagnostic="452 4.2.2 \"full\" \\ tab\there",
                        status_code="4.2.2", reporting_mta="b.mx", sender="news"))
    ledger.record(Rejection("ann@example.com", "m9", at(0.3), "sns", reason="Bad content",
                            sender="news"))
    ledger.record(Bounce("bob@faß.de", "f1", "Permanent", "General", at(1), "sns",
                         message_id="m2",
                         diagnostic="550 5.1.1 Benutzer unbekannt \u2013 ünknown ✉",
                         status_code="5.1.1", action="failed", reporting_mta="dsn; mx.faß.de",
                         sender="news"))
    ledger.record(Blocked("bob@faß.de", "bounced", at(2), "api", reason="hard_bounce",
                          sender="news", profile_id="p2"))
    for i in range(3):
        ledger.record(Bounce("carl@example.com", f"s{i}", "Transient", "General", at(3 + i),
                             "sns", diagnostic="452 mailbox full\nline two\x01"))
    ledger.record(Bounce("dora@example.com", "s9", "Transient", "MailboxFull", at(3), "sns"))
    ledger.escalate("dora@example.com", now=at(24 * 20))
    ledger.record(Complaint("eve@example.com", "c1", at(4), "sns", feedback_type="abuse",
                            complaint_subtype=None, user_agent="Yahoo!-Mail-Feedback/2.0",
                            sender="news"))
    ledger.reset("eve@example.com", actor="admin", reason="asked twice", consent="mail 12 Mar",
                 is_admin=True, occurred_at=at(5), source="console")
    ledger.suppress("fred@example.com", actor="ops", reason="legal hold", occurred_at=at(6),
                    source="cli")
    ledger.import_suppressions([("gina@example.com", "BOUNCE")], actor="import",
                               occurred_at=at(6))
    ledger.change_email("p1", old_address="ann@example.com", new_address="ann@new.example",
                        actor="ops", occurred_at=at(7), source="api")
    ledger.change_email("p3", old_address=None, new_address="hal@example.com", actor=None,
                        occurred_at=at(7), source="api")
    _erasures(services)
    ledger.judge_sender("news", Judgement(WARNED, "bounce_rate", "6.00% over 7 days"),
                        occurred_at=at(9))


def _erasures(services: Services) -> None:
    """Two erased addresses: one blocked (kept as a hash) that comes back, one ok; an email
    change names the first, so another address's history shows it erased."""
    ledger = services.ledger
    ledger.record(Sent("ivan@example.com", "m20", at(8), "api", profile_id="p4"),
                  Bounce("ivan@example.com", "f20", "Permanent", "General", at(8.1), "sns",
                         diagnostic="550 gone"))
    ledger.change_email("p4", old_address="ivan@example.com", new_address="jan@example.com",
                        actor="ops", occurred_at=at(8.2), source="api")
    ledger.record(Sent("kim@example.com", "m21", at(8), "api"))
    for address in ("ivan@example.com", "kim@example.com"):
        ledger.erase(address, actor="admin", reason="GDPR request", occurred_at=at(8.5),
                     source="api")
    ledger.record(Delivery("ivan@example.com", "m22", at(10), "sns"))


def main(folder: Path) -> None:
    from api.cli_analytics import export_events
    from projections.export import Selection

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ledger.db").unlink(missing_ok=True)
    services = build_services(make_settings(f"sqlite:///{folder / 'ledger.db'}",
                                            erasure_key=ERASURE_KEY))
    try:
        play(services)
        services.projector.catch_up()
        export_events(services, "jsonl", str(folder / "export.jsonl"), Selection(),
                      lambda done: None)
        services.db.checkpoint()
    finally:
        services.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
