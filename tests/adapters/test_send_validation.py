"""The outgoing-message checks: examples, and properties over arbitrary input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.addresses import normalize_address
from adapters.send_validation import (
    MAX_MESSAGE_BYTES,
    MAX_RECIPIENTS,
    OutgoingMessage,
    ValidMessage,
    validate,
)
from domain.errors import InvalidAddress, InvalidMessage, LedgerError

FROM = "News <News@Example.com>"
addresses = st.one_of(st.emails(), st.text(max_size=40),
                      st.sampled_from(["a@example.org", " B@Example.ORG ", "x@bücher.de"]))


def outgoing(to: list[str], **changes: object) -> OutgoingMessage:
    values: dict = {"from_address": FROM, "to": to, "subject": "Hi", "text": "body"}
    values.update(changes)
    return OutgoingMessage(**values)


def test_recipients_are_normalized_in_input_order() -> None:
    valid = validate(outgoing(["B@Example.org", "a@example.org"], profile_ids=[None, " u1 "]))
    assert valid.recipients == ("b@example.org", "a@example.org")
    assert valid.profile_ids == (None, "u1")
    assert (valid.from_address, valid.from_normalized) == (FROM, "news@example.com")


def test_the_sender_defaults_to_the_from_domain() -> None:
    assert validate(outgoing(["a@example.org"])).sender == "example.com"
    assert validate(outgoing(["a@example.org"], sender="acme")).sender == "acme"


def test_a_repeated_recipient_is_refused() -> None:
    with pytest.raises(InvalidMessage, match=r"to\[1\]: a@example.org is already to\[0\]"):
        validate(outgoing(["a@example.org", "A@Example.org"]))


def test_a_bad_from_is_an_invalid_address() -> None:
    with pytest.raises(InvalidAddress, match=r"^from:"):
        validate(outgoing(["a@example.org"], from_address="nobody"))


def test_a_message_over_the_ses_size_limit_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="40 MB"):
        validate(outgoing(["a@example.org"], html="x" * (MAX_MESSAGE_BYTES * 3 // 4 + 1)))


def test_html_alone_is_a_body() -> None:
    valid = validate(outgoing(["a@example.org"], text=None, html="<p>hi</p>"))
    assert (valid.text, valid.html) == (None, "<p>hi</p>")


@settings(max_examples=200, deadline=None)
@given(to=st.lists(addresses, max_size=60), subject=st.text(max_size=30),
       text=st.one_of(st.none(), st.text(max_size=20)))
def test_validation_either_refuses_cleanly_or_returns_clean_recipients(
        to: list[str], subject: str, text: str | None) -> None:
    try:
        valid = validate(outgoing(to, subject=subject, text=text))
    except LedgerError:
        return  # refused with one of our errors: a 4xx, never a 500
    assert isinstance(valid, ValidMessage)
    assert 1 <= len(valid.recipients) <= MAX_RECIPIENTS
    assert len(set(valid.recipients)) == len(valid.recipients)
    assert list(valid.recipients) == [normalize_address(a) for a in to]
    assert valid.subject.strip() and "\n" not in valid.subject and valid.text


@settings(deadline=None)
@given(extra=st.integers(min_value=1, max_value=20))
def test_more_than_fifty_recipients_are_always_refused(extra: int) -> None:
    to = [f"r{i}@example.org" for i in range(MAX_RECIPIENTS + extra)]
    with pytest.raises(InvalidMessage, match="at most 50"):
        validate(outgoing(to))


@given(subject=st.text(min_size=1, max_size=20).filter(lambda s: s.strip()),
       cut=st.sampled_from(["\n", "\r", "\r\n"]))
def test_a_subject_with_a_line_break_is_always_refused(subject: str, cut: str) -> None:
    with pytest.raises(InvalidMessage, match="line breaks"):
        validate(outgoing(["a@example.org"], subject=subject + cut + subject))


locals_ = st.from_regex(r"[A-Za-z0-9_+-]{1,12}(\.[A-Za-z0-9_+-]{1,8})?", fullmatch=True)
domains = st.sampled_from(["example.org", "Example.COM", "mail.example.net", "bücher.de"])


@settings(deadline=None)
@given(parts=st.lists(st.tuples(locals_, domains), min_size=1, max_size=MAX_RECIPIENTS,
                      unique_by=lambda p: (p[0].lower(), p[1].lower())))
def test_valid_distinct_recipients_are_always_accepted(parts: list[tuple[str, str]]) -> None:
    to = [f"{local}@{domain}" for local, domain in parts]
    valid = validate(outgoing(to))
    assert list(valid.recipients) == [normalize_address(a) for a in to]
    assert all(normalize_address(a) == a for a in valid.recipients)
