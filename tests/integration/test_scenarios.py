"""One scenario suite on SQLite and PostgreSQL: commands -> projections -> reads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from api.services import Services, build_services
from domain.reports import Bounce, Complaint, Delivery, Sent
from tests.conftest import make_settings

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def bounce(address: str, fid: str, kind: str = "Permanent", days: float = 0) -> Bounce:
    return Bounce(address, fid, kind, "General", NOW + timedelta(days=days), "sns",
                  message_id="ses-1", diagnostic="smtp; 550 5.1.1 user unknown")


def rows(services: Services, table: str) -> list[tuple]:
    with services.db.read() as cur:
        cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        return [tuple(r) for r in cur.fetchall()]


def test_hard_bounce_shows_in_the_status_read(services: Services) -> None:
    services.ledger.record(bounce("a@example.com", "f1"))
    status = services.reader.status("a@example.com")
    assert (status["status"], status["sendable"], status["reason"]) == (
        "bounced", False, "hard_bounce")
    assert status["diagnostic"] == "smtp; 550 5.1.1 user unknown"
    assert status["counts"]["hard_bounces"] == 1
    assert status["since"] == "2026-05-01T09:30:00.000000Z"


def test_duplicate_report_is_stored_once(services: Services) -> None:
    assert services.ledger.record(bounce("a@example.com", "f1")) == [True]
    assert services.ledger.record(bounce("a@example.com", "f1")) == [False]
    assert services.reader.status("a@example.com")["counts"]["hard_bounces"] == 1
    assert len(services.ledger.history("a@example.com")) == 2


def test_batch_of_reports_for_many_addresses_commits_together(services: Services) -> None:
    reports = [bounce(f"user{i}@example.com", f"f{i}") for i in range(50)]
    assert services.ledger.record(*reports) == [True] * 50
    found = services.reader.statuses([f"user{i}@example.com" for i in range(50)])
    assert {k.status for k in found.values()} == {"bounced"} and len(found) == 50


def test_soft_bounce_limit_then_delivery_keeps_the_block(services: Services) -> None:
    address = "soft@example.com"
    services.ledger.record(*[bounce(address, f"s{i}", "Transient", i) for i in range(3)])
    services.ledger.record(Delivery(address, "m-late", NOW + timedelta(days=4), "sns"))
    status = services.reader.status(address)
    assert (status["status"], status["reason"]) == ("bounced", "soft_bounce_limit")


def test_complaint_reset_needs_admin_and_consent(services: Services) -> None:
    from domain.errors import ConsentRequired

    services.ledger.record(Complaint("c@example.com", "k1", NOW, "sns", feedback_type="abuse"))
    with pytest.raises(ConsentRequired):
        services.ledger.reset("c@example.com", actor="op", reason="typo", consent=None,
                              is_admin=False, occurred_at=NOW, source="api")
    services.ledger.reset("c@example.com", actor="root", reason="re-subscribed",
                          consent="ticket 42: user opted in again", is_admin=True,
                          occurred_at=NOW + timedelta(days=1), source="api")
    assert services.reader.status("c@example.com")["status"] == "ok"


def test_email_change_moves_the_profile_and_keeps_each_status(services: Services) -> None:
    services.ledger.record(Sent("old@example.com", "m1", NOW, "api", profile_id="p1"))
    services.ledger.record(bounce("old@example.com", "f1"))
    services.ledger.change_email("p1", old_address="old@example.com",
                                 new_address="new@example.com", actor="op",
                                 occurred_at=NOW, source="api")
    assert services.reader.profile("p1")["address"] == "new@example.com"
    assert services.reader.status("new@example.com")["status"] == "ok"
    services.ledger.change_email("p1", old_address="new@example.com",
                                 new_address="old@example.com", actor="op",
                                 occurred_at=NOW, source="api")
    assert services.reader.profile("p1")["address"] == "old@example.com"
    assert services.reader.status("old@example.com")["status"] == "bounced"
    types = [type(e).__name__ for e in services.ledger.history("old@example.com")]
    assert types == ["Registered", "MessageSent", "HardBounced", "EmailChangedTo",
                     "EmailChangedFrom"]


def test_message_map_finds_recipients_profiles_and_sender(services: Services) -> None:
    services.ledger.record(
        Sent("x@example.com", "ses-9", NOW, "api", sender="billing", profile_id="p9"),
        Sent("y@example.com", "ses-9", NOW, "api", sender="billing"),
    )
    found = services.reader.sends("ses-9")
    assert [(s.address, s.profile_id, s.sender) for s in found] == [
        ("x@example.com", "p9", "billing"), ("y@example.com", None, "billing")]
    assert services.reader.sends("unknown") == []


def test_rebuilding_every_projection_equals_the_live_view(services: Services) -> None:
    services.ledger.record(Sent("r@example.com", "m1", NOW, "api", profile_id="p"))
    services.ledger.record(*[bounce(f"r{i}@example.com", f"f{i}", "Transient", i)
                             for i in range(5)])
    services.ledger.suppress("r@example.com", actor="op", reason="asked", occurred_at=NOW,
                             source="api")
    live = {t: rows(services, t) for t in ("email_status", "profiles", "message_map")}
    for name in live:
        services.projector.rebuild(name)
    assert {t: rows(services, t) for t in live} == live


def test_two_threads_writing_one_address_lose_no_event(services: Services) -> None:
    def write(prefix: str) -> None:
        for i in range(15):
            services.ledger.record(bounce("busy@example.com", f"{prefix}{i}", "Transient", 0))

    threads = [threading.Thread(target=write, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert services.reader.status("busy@example.com")["counts"]["soft_bounces"] == 30
    assert len(services.ledger.history("busy@example.com")) == 31


def test_two_processes_share_one_store(services: Services, database_url: str) -> None:
    """A second Services (another API process) writes; the first catches up and sees it."""
    other = build_services(make_settings(database_url))
    try:
        other.ledger.record(bounce("shared@example.com", "f1"))
        services.ledger.record(bounce("mine@example.com", "f2"))
        services.projector.catch_up()
        assert services.reader.status("shared@example.com")["status"] == "bounced"
        assert other.reader.status("mine@example.com")["status"] == "bounced"
    finally:
        other.close()


def _write_from_another_process(database_url: str, prefix: str, count: int) -> None:
    other = build_services(make_settings(database_url))
    try:
        for i in range(count):
            other.ledger.record(bounce("contended@example.com", f"{prefix}{i}", "Transient", 0))
    finally:
        other.close()


def test_two_processes_writing_one_address_lose_no_event(services: Services,
                                                         database_url: str) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_from_another_process, args=(database_url, p, 20))
               for p in ("x", "y")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    services.projector.catch_up()
    assert services.reader.status("contended@example.com")["counts"]["soft_bounces"] == 40
    assert len(services.ledger.history("contended@example.com")) == 41


def test_escalate_job_blocks_old_streaks_and_is_idempotent(services: Services) -> None:
    from api.application.escalation import escalate

    services.ledger.record(bounce("old@example.com", "s1", "Transient", 0),
                           bounce("recent@example.com", "s2", "Transient", 10))
    now = NOW + timedelta(days=15)
    assert escalate(services.ledger, services.db, now) == 1
    old = services.reader.status("old@example.com")
    assert (old["status"], old["reason"]) == ("bounced", "transient_grace_expired")
    assert services.reader.status("recent@example.com")["status"] == "soft_bounced"
    assert escalate(services.ledger, services.db, now) == 0
    assert services.ledger.escalate("never@example.com", now=now) is False
    assert services.ledger.history("never@example.com") == []
