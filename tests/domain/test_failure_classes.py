"""The classifier (SPEC §3.1) against real diagnostics, and its table's own promises."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.failure_classes import (
    FAILURE_CLASSES,
    RECIPIENT,
    RULES,
    SENDER_SIDE,
    UNKNOWN,
    Classification,
    classify,
    describe,
    enhanced_code,
)
from tests.domain.bounce_corpus import CORPUS, Sample


def _id(sample: Sample) -> str:
    return f"{sample.provider}-{CORPUS.index(sample)}"


@pytest.mark.parametrize("sample", CORPUS, ids=_id)
def test_real_diagnostic_gets_its_class(sample: Sample) -> None:
    got = classify(sample.bounce_type, sample.subtype, sample.status, sample.diagnostic)
    assert got.failure_class == sample.expected, (got.rule, sample.source)


def test_every_rule_is_exercised_by_a_real_diagnostic() -> None:
    used = {classify(s.bounce_type, s.subtype, s.status, s.diagnostic).rule for s in CORPUS}
    assert {rule.name for rule in RULES} - used == set()


def test_corpus_covers_every_class_and_enough_providers() -> None:
    assert len(CORPUS) >= 60
    assert {s.expected for s in CORPUS} == set(FAILURE_CLASSES)
    assert len({s.provider for s in CORPUS}) >= 6
    assert all(s.source.strip() for s in CORPUS)


def test_corpus_has_hard_cases_in_both_directions() -> None:
    def code(s: Sample) -> str:
        return enhanced_code(s.status, s.diagnostic) or ""

    five_seven_recipient = [s for s in CORPUS if s.expected == RECIPIENT
                            and code(s).startswith(("5.7.", "5.4.1"))]
    addressing_sender = [s for s in CORPUS if s.expected in SENDER_SIDE
                         and (s.status or "").startswith("5.1.")]
    assert len(five_seven_recipient) >= 3
    assert len(addressing_sender) >= 4


def test_an_address_in_the_text_is_not_evidence() -> None:
    named = classify("Permanent", "General", "5.1.1",
                     "550 5.1.1 <dmarc-reports@example.com>: Recipient address rejected: "
                     "User unknown")
    assert named == Classification(RECIPIENT, "no_such_user")


def test_ses_suppression_stays_as_today_whatever_the_text() -> None:
    got = classify("Permanent", "OnAccountSuppressionList", "5.1.1", "blocked using spamhaus")
    assert got == Classification(RECIPIENT, "ses_suppression_list")


def test_nothing_to_go_on_is_unknown() -> None:
    assert classify("Undetermined", "Undetermined", None, None).failure_class == UNKNOWN
    assert classify("Permanent", "General", "5.0.0", "smtp; 550 Rejected").failure_class == UNKNOWN


def test_enhanced_code_prefers_the_specific_one() -> None:
    assert enhanced_code("5.0.0", "smtp; 550 5.7.1 Access denied") == "5.7.1"
    assert enhanced_code("5.1.1", "550 5.7.1 blacklisted") == "5.1.1"
    assert enhanced_code(None, "Client host [192.0.2.25] 4.16.55.1; 5.7.606 banned") == "5.7.606"
    assert enhanced_code(None, "no code here 192.0.2.5") is None


def test_rule_names_are_unique_and_every_rule_has_words() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(rule.words.strip() for rule in RULES)
    sender_side_words = [r.words for r in RULES if r.failure_class in SENDER_SIDE]
    assert all("not the recipient's fault" in words for words in sender_side_words)


def test_describe_falls_back_to_the_class_words() -> None:
    assert "blocklist" in describe("sender_reputation", "spamhaus_listed")
    assert "reputation" in describe("sender_reputation", "a_rule_removed_since")
    assert "could not be classified" in describe(None, None)


def test_a_rule_without_a_criterion_is_refused() -> None:
    from domain.failure_classes import Rule

    with pytest.raises(ValueError):
        Rule("empty", RECIPIENT, "words")
    with pytest.raises(ValueError):
        Rule("bad", "nobody", "words", phrases="x")
    with pytest.raises(ValueError):
        Rule("shouting", RECIPIENT, "words", phrases="User Unknown")


_ANY_TEXT = st.one_of(st.none(), st.text(max_size=600),
                      st.from_regex(re.compile(r"[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3} .{0,80}"),
                                    fullmatch=True))


@given(_ANY_TEXT, _ANY_TEXT, _ANY_TEXT, _ANY_TEXT)
def test_classify_never_raises_and_is_deterministic(
        bounce_type: str | None, subtype: str | None, status: str | None,
        diagnostic: str | None) -> None:
    first = classify(bounce_type, subtype, status, diagnostic)
    assert first == classify(bounce_type, subtype, status, diagnostic)
    assert first.failure_class in FAILURE_CLASSES
    assert first.rule in {rule.name for rule in RULES} | {"unclassified"}


@given(st.sampled_from(CORPUS), st.text(max_size=40))
def test_trailing_noise_does_not_turn_a_sender_block_into_a_recipient_block(
        sample: Sample, noise: str) -> None:
    """Session ids and hostnames vary from bounce to bounce; the verdict must not."""
    if sample.expected not in SENDER_SIDE or sample.diagnostic is None:
        return
    noisy = f"{sample.diagnostic} [{re.sub(r'[^a-z0-9.]', '', noise.lower())}]"
    got = classify(sample.bounce_type, sample.subtype, sample.status, noisy)
    assert got.failure_class in SENDER_SIDE
