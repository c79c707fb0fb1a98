"""What a status change announces (webhooks) and what SES's list should hear (pure rules)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.notifications import (
    ADDRESS_BLOCKED,
    ADDRESS_SOFT_BOUNCED,
    ADDRESS_UNBLOCKED,
    BOUNCE,
    COMPLAINT,
    DELETE,
    PUT,
    SENDER_PAUSED,
    SENDER_RESUMED,
    SENDER_WARNED,
    SesCall,
    sender_state_type,
    ses_push,
    status_transition,
)
from domain.policy import SENDABLE, STATUSES

statuses = st.sampled_from(STATUSES)


def test_a_block_is_announced_from_ok() -> None:
    assert status_transition("ok", "bounced") == ADDRESS_BLOCKED


def test_a_block_of_another_kind_is_announced_again() -> None:
    assert status_transition("bounced", "complained") == ADDRESS_BLOCKED


def test_a_reset_block_is_announced_as_unblocked() -> None:
    assert status_transition("suppressed", "ok") == ADDRESS_UNBLOCKED


def test_a_soft_bounce_is_announced() -> None:
    assert status_transition("ok", "soft_bounced") == ADDRESS_SOFT_BOUNCED


def test_the_end_of_a_soft_bounce_streak_is_announced_as_unblocked() -> None:
    assert status_transition("soft_bounced", "ok") == ADDRESS_UNBLOCKED


@given(statuses)
def test_no_change_announces_nothing(status: str) -> None:
    assert status_transition(status, status) is None


@given(statuses, statuses)
def test_every_change_of_sendability_is_announced(before: str, after: str) -> None:
    kind = status_transition(before, after)
    if (before in SENDABLE) != (after in SENDABLE):
        assert kind == (ADDRESS_UNBLOCKED if after in SENDABLE else ADDRESS_BLOCKED)
    if after not in SENDABLE and before != after:
        assert kind == ADDRESS_BLOCKED


def test_sender_states_map_to_sender_events() -> None:
    assert [sender_state_type(s) for s in ("warned", "paused", "active", "odd")] == [
        SENDER_WARNED, SENDER_PAUSED, SENDER_RESUMED, None]


def test_a_complaint_is_put_as_complaint() -> None:
    assert ses_push("ok", "complained", lifted=False, from_ses=False) == SesCall(PUT, COMPLAINT)


def test_other_blocks_are_put_as_bounce() -> None:
    for status in ("bounced", "suppressed"):
        assert ses_push("ok", status, lifted=False, from_ses=False) == SesCall(PUT, BOUNCE)


def test_a_block_learnt_from_ses_is_not_put_back() -> None:
    assert ses_push("ok", "suppressed", lifted=False, from_ses=True) is None


def test_a_reset_deletes_even_what_we_never_put() -> None:
    assert ses_push("ok", "ok", lifted=True, from_ses=False) == SesCall(DELETE)


def test_a_block_re_established_after_a_reset_is_put_again() -> None:
    assert ses_push("bounced", "bounced", lifted=True, from_ses=False) == SesCall(PUT, BOUNCE)


@given(statuses, statuses, st.booleans(), st.booleans())
def test_ses_hears_a_put_only_for_blocks_and_a_delete_only_for_sendable(
        before: str, after: str, lifted: bool, from_ses: bool) -> None:
    call = ses_push(before, after, lifted=lifted, from_ses=from_ses)
    if call is not None and call.action == PUT:
        assert after not in SENDABLE and not from_ses
    if call is not None and call.action == DELETE:
        assert after in SENDABLE
    if after in SENDABLE and not lifted and before in SENDABLE:
        assert call is None
