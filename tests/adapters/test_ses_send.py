"""Sending through ``SesTransport``: retries and error mapping against a real HTTP endpoint.

The scripted server answers with SES v2's wire format, so these run through boto3 and botocore's
error parsing exactly as against AWS.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.rate_limit import LocalRateLimiter
from adapters.send_validation import OutgoingMessage
from adapters.ses import Backoff, SesTransport, ses_client
from api.application.sending import Sending
from api.services import Services, build_sending
from tests.ses_fakes import FROM, ScriptedSes


@pytest.fixture
def fake_ses() -> Iterator[ScriptedSes]:
    server = ScriptedSes()
    yield server
    server.close()


def client_for(services: Services, fake: ScriptedSes, sleeps: list[float] | None = None,
               configuration_set: str | None = None) -> Sending:
    """Built from explicit parts; the backoff's sleeps are recorded instead of slept."""
    noted = sleeps if sleeps is not None else []
    transport = SesTransport(ses_client("us-east-1", fake.endpoint), LocalRateLimiter(1000),
                             configuration_set=configuration_set,
                             backoff=Backoff(sleep=noted.append))
    return Sending(services.statuses, services.ledger, transport, senders=services.senders)


def message(*to: str) -> OutgoingMessage:
    return OutgoingMessage(from_address=FROM, to=list(to), subject="Subject", text="body",
                           html="<p>body</p>")


def test_throttling_is_retried_with_backoff_then_sent(services: Services,
                                                      fake_ses: ScriptedSes) -> None:
    fake_ses.script = [(429, "TooManyRequestsException"), (400, "Throttling")]
    sleeps: list[float] = []
    [result] = client_for(services, fake_ses, sleeps).send(message("t@example.org"))
    assert (result.result, result.message_id) == ("sent", "scripted-3")
    assert len(fake_ses.arrivals) == 3
    assert len(sleeps) == 2 and sleeps[1] <= 0.2  # jittered, under base * 2**attempt
    assert type(services.ledger.history("t@example.org")[-1]).__name__ == "MessageSent"


def test_throttling_that_never_ends_fails_after_the_last_attempt(
        services: Services, fake_ses: ScriptedSes) -> None:
    fake_ses.script = [(400, "LimitExceededException")] * 10
    [result] = client_for(services, fake_ses).send(message("u@example.org"))
    assert result.result == "failed"
    assert result.reason is not None and result.reason.startswith("LimitExceededException:")
    assert "after 4 attempts" in result.reason
    assert len(fake_ses.arrivals) == 4
    assert services.ledger.history("u@example.org") == []


@pytest.mark.parametrize("code", ["MessageRejected", "MailFromDomainNotVerifiedException"])
def test_a_rejection_is_reported_not_retried(services: Services, fake_ses: ScriptedSes,
                                             code: str) -> None:
    fake_ses.script = [(400, code)]
    results = client_for(services, fake_ses).send(message("v@example.org", "w@example.org"))
    assert [(r.result, (r.reason or "").split(":")[0]) for r in results] == [
        ("failed", code), ("sent", "")]
    assert len(fake_ses.arrivals) == 2


def test_a_paused_account_fails_the_rest_without_more_calls(services: Services,
                                                            fake_ses: ScriptedSes) -> None:
    fake_ses.script = [(400, "AccountSendingPausedException")]
    results = client_for(services, fake_ses).send(message("a@example.org", "b@example.org"))
    assert [r.result for r in results] == ["failed", "failed"]
    assert results[0].reason == results[1].reason
    assert len(fake_ses.arrivals) == 1


def test_the_request_is_one_recipient_with_the_configuration_set(
        services: Services, fake_ses: ScriptedSes) -> None:
    client_for(services, fake_ses, configuration_set="events").send(message("c@example.org"))
    [body] = fake_ses.bodies
    assert body["Destination"] == {"ToAddresses": ["c@example.org"]}
    assert body["ConfigurationSetName"] == "events"
    assert body["FromEmailAddress"] == FROM
    simple = body["Content"]["Simple"]
    assert (simple["Subject"]["Data"], simple["Body"]["Text"]["Data"]) == ("Subject", "body")


def test_no_configuration_set_means_none_is_sent(services: Services,
                                                 fake_ses: ScriptedSes) -> None:
    client_for(services, fake_ses).send(message("d@example.org"))
    assert "ConfigurationSetName" not in fake_ses.bodies[0]


def test_the_send_service_is_built_from_the_settings(services: Services) -> None:
    transport = build_sending(services).transport
    assert isinstance(transport, SesTransport)
    assert transport.configuration_set is None
    assert isinstance(transport.limiter, LocalRateLimiter)
    assert transport.limiter.rate == services.settings.ses_max_send_rate
    assert transport.ses.meta.region_name == services.settings.aws_region
