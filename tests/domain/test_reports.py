"""Reports are the address aggregate's one input for reported facts: the event a report
records carries the report's own fields (but the address), and nothing maps them between."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from domain.address import Address
from domain.reports import Bounce, Delay, Delivery, Rejection, Report
from tests.domain.helpers import ADDRESS, blocked, complaint, day, delivery, hard, sent, soft

SPAMHAUS = "smtp; 550 5.7.1 blocked using Spamhaus"
EVERY_KIND: list[Report] = [
    sent(0), blocked(0), delivery(0), hard(0), soft(0), complaint(0),
    Bounce(ADDRESS, "sr", "Permanent", "General", day(0), "sns", diagnostic=SPAMHAUS,
           status_code="5.7.1", action="failed"),
    Delay(ADDRESS, "m", day(0), "sns", delay_type="MailboxFull"),
    Rejection(ADDRESS, "m", day(0), "sns", reason="Bad content"),
]


@pytest.mark.parametrize("report", EVERY_KIND, ids=lambda r: type(r).__name__)
def test_the_recorded_event_carries_the_report_s_own_fields(report: Report) -> None:
    agg = Address(address=ADDRESS)
    assert agg.record(report) is True
    event = agg.collect_events()[-1]
    event_class, values = report.recorded_as()
    assert type(event) is event_class
    for spec in fields(report):  # type: ignore[arg-type]
        if spec.name == "address" or spec.name not in values:
            continue
        assert getattr(event, spec.name) == getattr(report, spec.name), spec.name


def test_only_the_address_and_a_sender_rejection_s_action_stay_behind() -> None:
    for report in EVERY_KIND:
        event_class, values = report.recorded_as()
        left = {s.name for s in fields(report)} - set(values)  # type: ignore[arg-type]
        expected = {"address", "action"} if event_class is Address.SenderRejected else {"address"}
        assert left == expected, type(report).__name__


def test_a_report_field_its_event_does_not_store_fails_loudly() -> None:
    @dataclass(frozen=True)
    class WiderDelivery(Delivery):
        remote_ip: str | None = None

    with pytest.raises(TypeError, match="remote_ip"):
        Address(address=ADDRESS).record(WiderDelivery(ADDRESS, "m", day(0), "sns",
                                                      remote_ip="192.0.2.1"))


def test_a_report_the_address_has_recorded_records_nothing() -> None:
    agg = Address(address=ADDRESS)
    assert agg.record(hard(0, fid="f")) is True
    assert agg.record(soft(1, fid="f")) is False
    assert agg.record(blocked(1)) is True  # a blocked send has no key: each one counts
    assert [type(e).__name__ for e in agg.collect_events()] == [
        "Registered", "HardBounced", "SendBlocked"]
