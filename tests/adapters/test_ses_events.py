"""SES payload samples parse and map to the right reports (and so the right statuses)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.ses_events import MessageInfo, SesPayloadError, parse_ses
from domain.policy import Policy, fold, verdict
from domain.reports import Bounce, Complaint, Delay, Delivery, Rejection, Sent
from tests.adapters.conftest import VECTORS
from tests.domain.helpers import record

SES = VECTORS / "ses"


def parse(name: str, lookup: MessageInfo | None = None):  # type: ignore[no-untyped-def]
    return parse_ses((SES / name).read_text(), source="sns", lookup=lambda _: lookup)


def test_real_permanent_bounce() -> None:
    parsed = parse("real-notification-bounce-permanent-general-simulator.json")
    [report] = parsed.reports
    assert isinstance(report, Bounce) and report.permanent
    assert (report.address, report.bounce_subtype, report.status_code) == (
        "bounce@simulator.amazonses.com", "General", "5.1.1")
    assert report.diagnostic == "smtp; 550 5.1.1 user unknown"
    assert report.feedback_id == "0100017fe7044080-b95aeb18-3fb8-408a-be9b-15fdbac3945a-000000"
    assert report.reporting_mta == "dns; a48-30.smtp-out.amazonses.com"
    assert report.occurred_at == datetime(2022, 4, 1, 21, 24, 49, tzinfo=UTC)
    assert report.sender == "alumno.buap.mx"  # the mail.source domain when the send is unknown


def test_real_transient_bounce_is_soft() -> None:
    [report] = parse("real-notification-bounce-transient-general-expired.json").reports
    assert isinstance(report, Bounce) and not report.permanent
    assert "Message expired" in (report.diagnostic or "")


def test_real_complaint_event() -> None:
    [report] = parse("real-event-complaint-abuse-simulator.json").reports
    assert isinstance(report, Complaint)
    assert (report.address, report.feedback_type, report.complaint_subtype) == (
        "complaint@simulator.amazonses.com", "abuse", None)
    assert report.user_agent == "Amazon SES Mailbox Simulator"


def test_real_send_event_records_the_send() -> None:
    [report] = parse("real-event-send-simulator.json").reports
    assert isinstance(report, Sent) and report.address == "success@simulator.amazonses.com"


def test_bounce_with_two_recipients_gives_two_reports() -> None:
    parsed = parse("doc-notification-bounce-permanent-general-no-dsn.json")
    assert [r.address for r in parsed.reports] == ["jane@example.com", "richard@example.com"]
    assert {r.feedback_id for r in parsed.reports if isinstance(r, Bounce)} == {
        "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000"}


def test_complaint_without_feedback_type_still_counts() -> None:
    [report] = parse("doc-notification-complaint-no-feedback-report.json").reports
    assert isinstance(report, Complaint) and report.feedback_type is None


@pytest.mark.parametrize(("name", "kind", "report_type"), [
    ("doc-event-bounce.json", "bounce", Bounce),
    ("doc-event-complaint.json", "complaint", Complaint),
    ("doc-event-delivery.json", "delivery", Delivery),
    ("doc-notification-delivery.json", "delivery", Delivery),
    ("doc-event-send.json", "send", Sent),
    ("doc-event-reject.json", "reject", Rejection),
    ("doc-event-rendering-failure.json", "rendering_failure", Rejection),
    ("doc-event-deliverydelay.json", "delivery_delay", Delay),
])
def test_every_kind_maps(name: str, kind: str, report_type: type) -> None:
    parsed = parse(name)
    assert parsed.kind == kind and parsed.reports
    assert all(isinstance(r, report_type) for r in parsed.reports)


@pytest.mark.parametrize("name", ["doc-event-open.json", "doc-event-click.json",
                                  "doc-event-subscription.json"])
def test_engagement_events_are_ignored(name: str) -> None:
    parsed = parse(name)
    assert (parsed.kind, parsed.reports) == ("ignored", [])


def test_unknown_types_are_acknowledged() -> None:
    parsed = parse_ses(json.dumps({"eventType": "Teleport", "mail": {}}), source="sns",
                       lookup=lambda _: None)
    assert parsed.kind == "unknown"


def test_message_map_supplies_sender_and_recipients() -> None:
    info = MessageInfo(("recipient@example.com",), "billing", {"recipient@example.com": "p1"})
    [sent] = parse("doc-event-send.json", info).reports
    assert isinstance(sent, Sent) and (sent.sender, sent.profile_id) == ("billing", "p1")
    [rejected] = parse("doc-event-reject.json", info).reports
    assert rejected.address == "recipient@example.com"


@pytest.mark.parametrize(("name", "status"), [
    ("real-notification-bounce-permanent-general-simulator.json", "bounced"),
    ("real-notification-bounce-transient-general-expired.json", "soft_bounced"),
    ("real-event-complaint-abuse-simulator.json", "complained"),
    ("doc-notification-delivery.json", "ok"),
    ("doc-event-deliverydelay.json", "ok"),
])
def test_samples_lead_to_the_right_status(name: str, status: str) -> None:
    reports = parse(name).reports
    _, events = record([type(r)(**{**r.__dict__, "address": "someone@example.com"})
                        for r in reports[:1]])
    assert verdict(fold(events, Policy()), Policy()).status == status


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)
ses_like = st.fixed_dictionaries(
    {"notificationType": st.sampled_from(["Bounce", "Complaint", "Delivery", "Send",
                                          "DeliveryDelay", "Reject", "X"])},
    optional={"mail": json_values, "bounce": json_values, "complaint": json_values,
              "delivery": json_values, "deliveryDelay": json_values},
)


@given(st.one_of(json_values, ses_like))
def test_arbitrary_json_parses_or_raises_the_documented_error(data: object) -> None:
    with contextlib.suppress(SesPayloadError):
        parse_ses(json.dumps(data), source="sns", lookup=lambda _: None)


@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_the_documented_error(text: str) -> None:
    with contextlib.suppress(SesPayloadError):
        parse_ses(text, source="sns", lookup=lambda _: None)
