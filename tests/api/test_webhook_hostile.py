"""SPEC §6.9 through the real endpoint: Unicode-hostile text (lone surrogates, NUL, fullwidth
punctuation, bidi controls) in any envelope field or URL is a 4xx, with nothing fetched and
nothing stored — on both stores."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.sns import SIGNED
from tests.api.test_webhook import Hook, make_hook
from tests.sns_signing import CERT_URL, HOST, TOPIC, ses_bounce

HOSTILE = ["\ud800", "\udfff", "\x00", "\uff0f", "\uff03", "\uff1f", "\uff20", "\uff1a",
           "\uff3b", "\uff3d", "\u202e", "\u202d", "\u2066", "\u2067", "\u2069", "\u200e",
           "\u200f", "\u061c", "\ufeff", "\u200d", "\u00ad", "\u3002", "\uff0e",
           "\t", "\n", "\r", " ", "\x7f", "\x01"]
ONE_HOSTILE = st.sampled_from(HOSTILE)
SOME_TEXT = st.text(st.characters(codec="utf-8"), max_size=8)


def _insert(text: str, at: int, what: str) -> str:
    at %= len(text) + 1
    return text[:at] + what + text[at:]


hostile_text = st.builds(lambda a, h, b: a + h + b, SOME_TEXT, ONE_HOSTILE, SOME_TEXT)


def hostile_url(url: str) -> st.SearchStrategy[str]:
    """A real URL with hostile characters slipped in anywhere (host, path, query)."""
    return st.builds(lambda at, what: _insert(url, at, what), st.integers(0, len(url)),
                     st.lists(ONE_HOSTILE, min_size=1, max_size=3).map("".join))


@pytest.fixture
def hook(database_url: str, tmp_path: Path) -> Iterator[Hook]:
    yield from make_hook(database_url, tmp_path)


def stored(hook: Hook) -> int:
    return hook.services.ledger.recorder.max_notification_id() or 0


def post(hook: Hook, envelope: dict[str, str]) -> int:
    before = stored(hook)
    response = hook.post(json.dumps(envelope).encode(), header=None)  # \ud800 stays escaped
    assert stored(hook) == before, "a refused message stored something"
    assert hook.outbound.requests == [], "a refused message fetched something"
    return response.status_code


SIGNED_BY_TYPE = [(kind, field) for kind in ("Notification", "SubscriptionConfirmation")
                  for field in (*SIGNED[kind], "Signature", "SignatureVersion",
                                "SigningCertURL")]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.sampled_from(SIGNED_BY_TYPE), st.data())
def test_hostile_text_in_any_checked_field_is_a_4xx(hook: Hook, target: tuple[str, str],
                                                    data: st.DataObject) -> None:
    kind, field = target
    envelope = (hook.signer.notification(ses_bounce(f"h-{uuid.uuid4().hex[:8]}@example.com"),
                                         Subject="s")
                if kind == "Notification" else hook.signer.confirmation())
    original = envelope[field]
    envelope[field] = data.draw(hostile_url(original) if original.startswith("https://")
                                else st.builds(_insert, st.just(original), st.integers(0, 99),
                                               ONE_HOSTILE) | hostile_text)
    assert 400 <= post(hook, envelope) < 500


@FUZZ
@given(st.sampled_from(["UnsubscribeURL", "Token", "SubscribeURL"]), hostile_text)
def test_hostile_text_in_unsigned_fields_never_gets_a_5xx(hook: Hook, field: str,
                                                          text: str) -> None:
    """Fields a Notification's signature does not cover are ignored — unless they are not
    even valid Unicode, which no SNS message is."""
    envelope = {**hook.signer.notification("not SES"), field: text}
    status = hook.post(json.dumps(envelope).encode(), header=None).status_code
    assert status < 500 and hook.outbound.requests == []
    if "\ud800" in text or "\udfff" in text:
        assert status == 400


GOOD_SUBSCRIBE = f"https://{HOST}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t"


@FUZZ
@given(hostile_url(GOOD_SUBSCRIBE).filter(lambda u: "\ud800" not in u and "\udfff" not in u))
@example(GOOD_SUBSCRIBE + "\x00")  # urlsplit keeps a NUL
@example(GOOD_SUBSCRIBE.replace("Confirm", "Con\nfirm"))  # urlsplit drops \t \r \n silently
@example(GOOD_SUBSCRIBE.replace("/?", "\uff0f?"))
def test_a_correctly_signed_hostile_subscribe_url_is_never_fetched(hook: Hook, url: str) -> None:
    envelope = hook.signer.confirmation(subscribe_url=url)  # signature valid: only §6.7 decides
    assert post(hook, envelope) == 403


@FUZZ
@given(hostile_url(CERT_URL))
@example(CERT_URL.replace(".pem", ".p\tem"))
@example(CERT_URL.replace(HOST, f"[{HOST}"))
def test_a_hostile_certificate_url_is_a_4xx(hook: Hook, url: str) -> None:
    envelope = hook.signer.notification(ses_bounce("cert@example.com"), SigningCertURL=url)
    assert 400 <= post(hook, envelope) < 500


@pytest.mark.parametrize("field", ["Message", "Subject", "MessageId"])
def test_a_lone_surrogate_is_a_400_not_a_500_and_logs_no_traceback(
        hook: Hook, field: str, caplog: pytest.LogCaptureFixture) -> None:
    envelope = {**hook.signer.notification(ses_bounce("s@example.com"), Subject="s"),
                field: "caf\ud800"}
    assert post(hook, envelope) == 400
    assert not [r for r in caplog.records if r.exc_info]
