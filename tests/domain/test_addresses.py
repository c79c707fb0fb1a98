"""Address normalization (SPEC §2) and the deterministic aggregate id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.addresses import address_id, normalize_address
from domain.errors import InvalidAddress


@pytest.mark.parametrize(("raw", "expected"), [
    ("  someone@example.com ", "someone@example.com"),
    ("Some One <Some.One@Example.COM>", "some.one@example.com"),
    ("\"Quoted, Name\" <a+tag@b.co>", "a+tag@b.co"),
    ("user@Bücher.de", "user@xn--bcher-kva.de"),
    ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
    ("user@example.com.", "user@example.com"),
])
def test_normalizes(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "   ", "no-at-sign", "@example.com", "user@", "user@@example.com", "user@localhost",
    "user@-example.com", "user@example..com", "us er@example.com", "user@exa mple.com",
    "user@example.123", "a" * 65 + "@example.com", "user@" + "a" * 64 + ".com",
    "user.@example.com", ".user@example.com", "Name <>",
])
def test_refuses_invalid_syntax(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(raw)


def test_id_is_a_stable_uuid5_of_the_normalized_address() -> None:
    assert address_id(normalize_address("A@Example.com")) == address_id("a@example.com")
    assert str(address_id("a@example.com")) == "645ef45b-c1cd-507a-90c1-d7b2740d082a"


local = st.from_regex(r"[A-Za-z0-9+_-]{1,20}(\.[A-Za-z0-9+_-]{1,10}){0,2}", fullmatch=True)
label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
unicode_label = st.text(st.characters(whitelist_categories=("Ll",)), min_size=1, max_size=8)
domain = st.lists(st.one_of(label, unicode_label), min_size=1, max_size=3).map(
    lambda labels: ".".join([*labels, "com"]))
names = st.text(st.characters(whitelist_categories=("L", "Zs")), max_size=10)


@given(local, domain, names)
def test_normalization_is_idempotent(user: str, host: str, name: str) -> None:
    raw = f"{name} <{user}@{host}>" if name.strip() else f"{user}@{host}"
    try:
        once = normalize_address(raw)
    except InvalidAddress:
        return
    assert normalize_address(once) == once
    assert once == once.strip().lower()


@given(st.text(max_size=80))
def test_arbitrary_text_is_normalized_or_refused_cleanly(raw: str) -> None:
    try:
        result = normalize_address(raw)
    except InvalidAddress:
        return
    assert normalize_address(result) == result


@given(st.one_of(st.text(max_size=60), st.builds(lambda u, h: f"{u}@{h}", local, domain)))
def test_fast_path_agrees_with_the_full_route(raw: str) -> None:
    from domain.addresses import _normalize

    try:
        full = _normalize(raw)
    except InvalidAddress:
        full = None
    try:
        fast = normalize_address(raw)
    except InvalidAddress:
        fast = None
    assert fast == full
