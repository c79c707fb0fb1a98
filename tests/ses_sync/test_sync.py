"""Two-way sync with SES's account-level suppression list, against a scripted SES v2 server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.ses import Backoff
from adapters.ses_suppression import SesSyncError
from api.application.ses_sync import SyncReport
from api.services import Services
from domain.reports import Complaint
from tests.ses_suppression_fake import ScriptedSuppressionList
from tests.webhooks.conftest import hard_bounce, now, reset, sender_rejection, suppress


def run(services: Services) -> SyncReport:
    return services.ses_sync().run()


@pytest.fixture(autouse=True)
def quick_backoff(services: Services) -> None:
    """Throttling retries without the production pauses (attempts stay as configured)."""
    services.ses_sync().remote.backoff = Backoff(attempts=6, base=0.001, cap=0.002)


def calls(fake: ScriptedSuppressionList, operation: str) -> list[str]:
    return [c.address for c in fake.calls if c.operation == operation and c.status == 200]


def history(services: Services, address: str) -> list[str]:
    return [type(e).__name__ for e in services.ledger.history(address)]


def test_a_block_here_is_put_there(services: Services, ses_list: ScriptedSuppressionList) -> None:
    hard_bounce(services, "ann@example.org", "h1")
    services.ledger.record(Complaint("bob@example.org", "c1", now(), "sns",
                                     feedback_type="abuse"))
    report = run(services)
    assert report.pushed == 2
    assert {a: e.reason for a, e in ses_list.entries.items()} == {
        "ann@example.org": "BOUNCE", "bob@example.org": "COMPLAINT"}
    assert history(services, "ann@example.org")[-1] == "AddedToSesSuppressionList"


def test_an_acknowledged_call_is_never_made_again(services: Services,
                                                  ses_list: ScriptedSuppressionList) -> None:
    hard_bounce(services, "ann@example.org", "h1")
    run(services)
    run(services)
    assert calls(ses_list, "Put") == ["ann@example.org"]
    assert services.ses_store is not None
    assert services.ses_store.push_summary()["counts"] == {"done": 1}


def test_a_reset_deletes_what_ses_listed_on_its_own(services: Services,
                                                   ses_list: ScriptedSuppressionList) -> None:
    ses_list.add("ann@example.org", "BOUNCE", datetime.now(UTC))  # SES added it itself
    suppress(services, "ann@example.org")
    run(services)
    reset(services, "ann@example.org")
    run(services)
    assert "ann@example.org" not in ses_list.entries
    assert calls(ses_list, "Put") == calls(ses_list, "Delete") == ["ann@example.org"]
    removed = services.ledger.history("ann@example.org")[-1]
    assert type(removed).__name__ == "RemovedFromSesSuppressionList" and removed.found


def test_deleting_an_address_ses_does_not_have_is_recorded_as_not_found(
        services: Services, ses_list: ScriptedSuppressionList) -> None:
    reset(services, "ann@example.org")  # a reset of an address never blocked here
    run(services)
    removed = services.ledger.history("ann@example.org")[-1]
    assert type(removed).__name__ == "RemovedFromSesSuppressionList" and not removed.found
    assert [c.status for c in ses_list.calls if c.operation == "Delete"] == [404]


def test_an_address_s_calls_go_in_log_order(services: Services,
                                           ses_list: ScriptedSuppressionList) -> None:
    suppress(services, "ann@example.org")
    reset(services, "ann@example.org")
    hard_bounce(services, "ann@example.org", "h1")
    services.ses_sync().pull_enabled = False
    run(services)
    assert [(c.operation, c.address) for c in ses_list.calls] == [
        ("Put", "ann@example.org"), ("Delete", "ann@example.org"), ("Put", "ann@example.org")]
    assert ses_list.entries["ann@example.org"].reason == "BOUNCE"


def test_throttling_is_retried(services: Services, ses_list: ScriptedSuppressionList) -> None:
    hard_bounce(services, "ann@example.org", "h1")
    ses_list.throttle = 2
    report = run(services)
    assert report.pushed == 1 and report.push_errors == 0
    puts = [c.status for c in ses_list.calls if c.operation == "Put"]
    assert puts == [429, 429, 200]


def test_persistent_throttling_postpones_the_call(services: Services,
                                                  ses_list: ScriptedSuppressionList) -> None:
    hard_bounce(services, "ann@example.org", "h1")
    ses_list.throttle = 100
    services.ses_sync().pull_enabled = False
    report = run(services)
    assert report.push_errors == 1 and report.pushed == 0
    assert services.ses_store is not None
    recent = services.ses_store.push_summary()["recent"][0]
    assert recent["state"] == "pending" and "TooManyRequestsException" in recent["last_error"]


def test_pull_imports_every_page_like_import_suppressions(
        services: Services, ses_list: ScriptedSuppressionList) -> None:
    for i in range(5):
        ses_list.add(f"user{i}@example.org", "COMPLAINT" if i == 4 else "BOUNCE",
                     datetime.now(UTC) - timedelta(days=1))
    report = run(services)
    assert (report.pages, report.imported) == (3, 5)
    status = services.reader.status("user4@example.org")
    assert (status["status"], status["reason"], status["diagnostic"]) == (
        "suppressed", "imported_suppression", "ses:COMPLAINT")
    assert history(services, "user0@example.org")[-1] == "Suppressed"


def test_the_next_pull_asks_only_since_the_last_run(services: Services,
                                                   ses_list: ScriptedSuppressionList) -> None:
    ses_list.add("old@example.org", "BOUNCE", datetime.now(UTC) - timedelta(days=3))
    run(services)
    ses_list.add("new@example.org", "BOUNCE", datetime.now(UTC))
    report = run(services)
    lists = [c.query for c in ses_list.calls if c.operation == "List"]
    assert "StartDate" not in lists[0] and "StartDate" in lists[-1]
    assert (report.pages, report.imported) == (1, 1)


def test_pull_skips_what_we_know_and_what_we_put(services: Services,
                                                ses_list: ScriptedSuppressionList) -> None:
    hard_bounce(services, "ours@example.org", "h1")
    run(services)  # put there by us
    ses_list.add("blocked@example.org", "BOUNCE", datetime.now(UTC))
    hard_bounce(services, "blocked@example.org", "h2")
    services.ses_sync().push_enabled = False
    report = services.ses_sync().run()
    assert report.imported == 0 and report.skipped == 2
    assert services.reader.status("ours@example.org")["reason"] == "hard_bounce"


def test_a_pull_block_is_not_pushed_back(services: Services,
                                         ses_list: ScriptedSuppressionList) -> None:
    ses_list.add("ann@example.org", "BOUNCE", datetime.now(UTC))
    run(services)
    run(services)
    assert calls(ses_list, "Put") == []


def test_a_pull_interrupted_mid_run_resumes_from_its_page(
        make_services: Callable[..., Services], ses_list: ScriptedSuppressionList) -> None:
    for i in range(6):
        ses_list.add(f"user{i}@example.org", "BOUNCE", datetime.now(UTC) - timedelta(days=1))
    first = make_services()
    first.ses_sync().remote.backoff = Backoff(attempts=6, base=0.001, cap=0.002)
    original = ses_list.answer

    def fail_third_list(call):  # type: ignore[no-untyped-def]
        if call.operation == "List" and sum(c.operation == "List" for c in ses_list.calls) >= 2:
            ses_list.throttle = 100
        return original(call)

    ses_list.answer = fail_third_list  # type: ignore[method-assign]
    with pytest.raises(SesSyncError):
        first.ses_sync().pull(SyncReport())
    ses_list.answer = original  # type: ignore[method-assign]
    ses_list.throttle = 0
    assert first.ses_store is not None
    saved = first.ses_store.pull_state()
    assert saved["pages"] == 2 and saved["next_token"] == "4"
    assert "TooManyRequestsException" in saved["last_error"]
    restarted = make_services()
    restarted.ses_sync().remote.backoff = Backoff(attempts=6, base=0.001, cap=0.002)
    report = SyncReport()
    restarted.ses_sync().pull(report)
    lists = [c.query for c in ses_list.calls if c.operation == "List" and c.status == 200]
    assert lists[-1].get("NextToken") == "4" and report.imported == 2
    assert all(restarted.reader.status(f"user{i}@example.org")["status"] == "suppressed"
               for i in range(6))
    assert restarted.ses_store.pull_state()["run_started_at"] is None  # type: ignore[union-attr]


def test_an_erased_address_is_not_pushed(services: Services,
                                         ses_list: ScriptedSuppressionList) -> None:
    hard_bounce(services, "ann@example.org", "h1")
    services.ledger.erase("ann@example.org", actor="admin", reason="asked", occurred_at=now(),
                          source="api")
    run(services)
    assert calls(ses_list, "Put") == []
    assert services.ses_store is not None
    recent = services.ses_store.push_summary()["recent"][0]
    assert recent["state"] == "cancelled" and recent["address"] is None


def test_a_sender_side_rejection_deletes_the_address_there(
        services: Services, ses_list: ScriptedSuppressionList) -> None:
    """SES lists an address on any hard bounce; when the receiving server refused the
    sender, the recipient is fine and SES must not keep dropping mail to it."""
    ses_list.add("ann@example.org", "BOUNCE", datetime.now(UTC))
    sender_rejection(services, "ann@example.org", "r1")
    services.ses_sync().pull_enabled = False
    run(services)
    assert "ann@example.org" not in ses_list.entries
    assert history(services, "ann@example.org")[-2:] == [
        "SenderRejected", "RemovedFromSesSuppressionList"]
