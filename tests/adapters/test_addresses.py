# ruff: noqa: RUF001, RUF003 - confusable characters are what these tests are about
"""Address normalization (SPEC §2, IDNA 2008 / UTS #46 non-transitional) and the
deterministic aggregate id."""

from __future__ import annotations

import idna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.addresses import normalize_address
from domain.addresses import address_id
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


# (Unicode spelling, the A-label spelling browsers and registries use)
ONE_MAILBOX = [
    ("kate@faß.de", "kate@xn--fa-hia.de"),  # IDNA 2003 made this fass.de, another domain
    ("kate@FAẞ.DE", "kate@xn--fa-hia.de"),  # capital sharp s
    ("kate@σας.gr", "kate@xn--mxa8ab.gr"),  # final sigma kept (IDNA 2003 folded it to σ)
    ("kate@ΣΑΣ.gr", "kate@xn--mxa9ab.gr"),  # capital sigma is σ, not str.lower()'s final ς
    ("kate@\u0646\u0627\u0645\u0647\u200c\u0627\u06cc.ir", "kate@xn--mgba3gch31f060k.ir"),
    ("kate@\u0915\u094d\u200d.in", "kate@xn--11b6iy14e.in"),  # ZWJ after a virama: kept
    ("kate@ｅｘａｍｐｌｅ．ｃｏｍ", "kate@example.com"),  # fullwidth letters and full stop
    ("kate@example\u3002com", "kate@example.com"),  # ideographic full stop
    ("kate@\u212aelvin.example", "kate@kelvin.example"),  # Kelvin sign
    ("Kate@BÜCHER.de", "kate@xn--bcher-kva.de"),
    ("kate@bu\u0308cher.de", "kate@xn--bcher-kva.de"),  # decomposed ü
]


@pytest.mark.parametrize(("unicode", "ascii"), ONE_MAILBOX)
def test_a_u_label_and_its_a_label_are_one_address(unicode: str, ascii: str) -> None:
    assert normalize_address(unicode) == ascii
    assert normalize_address(ascii) == ascii
    assert normalize_address(ascii.upper()) == ascii
    assert address_id(normalize_address(unicode)) == address_id(normalize_address(ascii))


@pytest.mark.parametrize(("one", "other"), [
    ("kate@faß.de", "kate@fass.de"),
    ("kate@σας.gr", "kate@σασ.gr"),
    ("kate@\u0646\u0627\u0645\u0647\u200c\u0627\u06cc.ir",
     "kate@\u0646\u0627\u0645\u0647\u0627\u06cc.ir"),
])
def test_deviation_characters_are_not_folded_into_another_domain(one: str, other: str) -> None:
    assert normalize_address(one) != normalize_address(other)


@pytest.mark.parametrize("raw", [
    "kate@a\u200db.com",  # ZWJ outside its context: IDNA 2003 silently dropped it
    "kate@a\u200cb.com",  # ZWNJ likewise
    "kate@\u2603.com", "kate@\U0001f4a9.la",  # symbols and emoji are not IDNA 2008
    "kate@a\u202eb.com", "kate@a\u2066b.com", "kate@ab\u200f.com",  # bidi controls
    "kate@\u0627b.com",  # right-to-left and left-to-right letters in one label
    "kate@a\uff0fb.com", "kate@a\uff20b.com", "kate\uff20example.com",  # fullwidth / and @
    "kate@exa\x00mple.com", "kate@xn--fa-hia\u200d.de",
])
def test_what_idna_2008_refuses_is_invalid(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(raw)


def test_local_parts_are_nfc_and_lower_case_only() -> None:
    assert normalize_address("E\u0301mile@example.com") == "\u00e9mile@example.com"
    assert normalize_address("\u212aate@example.com") == "kate@example.com"
    assert normalize_address("ｋate@example.com") != "kate@example.com"  # the server decides


def test_id_is_a_stable_uuid5_of_the_normalized_address() -> None:
    assert address_id(normalize_address("A@Example.com")) == address_id("a@example.com")
    assert str(address_id("a@example.com")) == "645ef45b-c1cd-507a-90c1-d7b2740d082a"


local = st.from_regex(r"[A-Za-z0-9+_-]{1,20}(\.[A-Za-z0-9+_-]{1,10}){0,2}", fullmatch=True)
label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
unicode_label = st.text(st.characters(whitelist_categories=("Ll",)), min_size=1, max_size=8)
# Letters plus what makes IDNA hard: deviations, joiners, width, case, marks, bidi controls.
hostile_label = st.text(st.one_of(
    st.characters(whitelist_categories=("Ll", "Lu", "Lo", "Mn", "Nd")),
    st.sampled_from("ßẞςΣ\u200c\u200d\u212aＡａ．。\u0301\u094d\u202e\u200f\u00ad-")),
    min_size=1, max_size=8)
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
    from adapters.addresses import _normalize

    try:
        full = _normalize(raw)
    except InvalidAddress:
        full = None
    try:
        fast = normalize_address(raw)
    except InvalidAddress:
        fast = None
    assert fast == full


@given(local, st.lists(hostile_label, min_size=1, max_size=2))
def test_both_directions_give_one_address(user: str, labels: list[str]) -> None:
    """Whatever spelling is accepted, its A-label form and its U-label form (decoded back)
    are the same address."""
    try:
        ascii_form = normalize_address(f"{user}@{'.'.join([*labels, 'de'])}")
    except InvalidAddress:
        return
    local_part, _, domain = ascii_form.partition("@")
    unicode_form = f"{local_part}@{idna.decode(domain)}"
    assert normalize_address(unicode_form) == ascii_form
    assert normalize_address(ascii_form) == ascii_form
