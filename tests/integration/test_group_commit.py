"""Group commit: concurrent submissions share transactions and each gets its own answer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from api.group_commit import GroupCommitter
from api.services import Services
from domain.errors import InvalidCommand
from domain.reports import Bounce, Report

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def bounce(i: int, fid: str | None = None) -> Bounce:
    return Bounce(f"g{i}@example.com", fid or f"f{i}", "Permanent", "General", NOW, "sns")


def run_threads(target, count: int) -> None:  # type: ignore[no-untyped-def]
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_concurrent_requests_share_commits_and_get_their_own_results(
        services: Services) -> None:
    commits: list[int] = []

    def record(*reports: Report) -> list[bool]:
        commits.append(len(reports))
        return services.ledger.record(*reports)

    committer = GroupCommitter(record, window=0.05)
    results: dict[int, list[bool]] = {}

    def submit(i: int) -> None:
        results[i] = committer.submit([bounce(i), bounce(i)])  # the second is a duplicate

    run_threads(submit, 20)
    committer.close()
    assert results == {i: [True, False] for i in range(20)}
    assert len(commits) < 20 and sum(commits) == 40
    found = services.reader.statuses([f"g{i}@example.com" for i in range(20)])
    assert {k.status for k in found.values()} == {"bounced"} and len(found) == 20


def test_a_failing_request_does_not_sink_the_others(services: Services) -> None:
    def record(*reports: Report) -> list[bool]:
        if any(r.feedback_id == "poison" for r in reports if isinstance(r, Bounce)):
            raise RuntimeError("cannot store this one")
        return services.ledger.record(*reports)

    committer = GroupCommitter(record, window=0.05)
    outcomes: dict[str, object] = {}

    def submit(name: str, report: Bounce) -> None:
        try:
            outcomes[name] = committer.submit([report])
        except RuntimeError as error:
            outcomes[name] = str(error)

    threads = [threading.Thread(target=submit, args=("good", bounce(1))),
               threading.Thread(target=submit, args=("bad", bounce(2, "poison")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    committer.close()
    assert outcomes == {"good": [True], "bad": "cannot store this one"}


def test_business_errors_reach_the_caller(services: Services) -> None:
    def record(*reports: Report) -> list[bool]:
        raise InvalidCommand("no")

    committer = GroupCommitter(record)
    with pytest.raises(InvalidCommand):
        committer.submit([bounce(1)])
    committer.close()


def test_each_request_is_released_after_its_views_are_current(services: Services) -> None:
    """The views are written in the commit's own transaction: a caller released by
    ``submit`` reads its own write (read-your-writes)."""
    stale: list[int] = []

    def submit(i: int) -> None:
        assert services.committer.submit([bounce(i)]) == [True]
        if services.reader.status(f"g{i}@example.com")["status"] != "bounced":
            stale.append(i)

    run_threads(submit, 30)
    assert stale == []
