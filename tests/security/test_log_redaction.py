"""The log redaction (issue 13 item 8) in its general form: any address, in any encoding, in
any route, query or message, never reaches a log line in full."""

from __future__ import annotations

import logging
import sys
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from api.log_redaction import AddressRedaction, Redactor

MARKER = "zz9"  # in every generated local part, in no route: its absence is the assertion
local = st.builds(lambda a, b: f"{a}{MARKER}{b}",
                  st.from_regex(r"[a-z0-9+/._-]{0,8}", fullmatch=True),
                  st.from_regex(r"[a-z0-9+/_-]{0,8}", fullmatch=True))
domain = st.sampled_from(["example.com", "xn--fa-hia.de", "mail.example.org"])
address = st.builds(lambda u, d: f"{u}@{d}".replace("..", "."), local, domain)
encodings = st.sampled_from([lambda a: a, lambda a: quote(a, safe="@"),
                             lambda a: quote(a, safe=""), lambda a: quote(a, safe="@/"),
                             lambda a: a.upper()])
ROUTES = ["/v1/addresses/{a}", "/v1/addresses/{a}/history?cursor=3",
          "/v1/addresses/{a}/status-at?at=2026-01-01", "/v1/addresses/{a}/reset",
          "/console/addresses/{a}?before=3", "/console/addresses/{a}/suppress",
          "/v1/profiles/{a}", "/v1/profiles/{a}/email", "/console/profiles/{a}",
          "/v1/addresses?q={a}&limit=5", "/console/addresses?status=bounced&q={a}",
          "/console/lookup?address={a}", "/console/addresses.csv?q={a}",
          "/console/login?next={n}", "/v1/senders/{a}", "/v1/senders/{a}/resume",
          "/no/such/route/{a}/x", "/{a}"]


@settings(max_examples=400)
@given(address, encodings, st.sampled_from(ROUTES), st.booleans())
def test_no_route_logs_an_address(addr: str, encode: object, route: str,
                                  keyed: bool) -> None:
    encoded = encode(addr)  # type: ignore[operator]
    path = route.format(a=encoded, n=quote(f"/console/addresses/{encoded}", safe=""))
    logged = Redactor(b"key" if keyed else None).redact_path(path)
    assert MARKER not in logged.lower()
    assert "[address" in logged


def test_a_keyed_mark_is_the_same_for_every_spelling_of_one_address() -> None:
    redactor = Redactor(b"erasure-key")
    marks = {redactor.redact_path(f"/v1/addresses/{a}") for a in
             ("kate@faß.de", "KATE@xn--fa-hia.de", "kate%40xn--fa-hia.de")}
    assert len(marks) == 1
    assert redactor.redact_path("/v1/addresses/other@faß.de") not in marks
    assert Redactor(None).redact_path("/v1/addresses/kate@faß.de") == "/v1/addresses/[address]"


def test_paths_without_addresses_are_kept() -> None:
    redactor = Redactor(b"k")
    for path in ("/v1/addresses?status=bounced&limit=5", "/v1/senders/shop.example",
                 "/webhooks/ses", "/console/addresses", "/metrics"):
        assert redactor.redact_path(path) == path


def record(name: str, msg: str, args: tuple[object, ...], exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("could not store kate.zz9@example.com")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_redacts_access_lines_messages_and_tracebacks() -> None:
    redaction = AddressRedaction("key")
    access = record("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                    ("1.2.3.4:5", "GET", "/v1/addresses/kate.zz9@example.com", "1.1", 200))
    ours = record("adapters.ses", "sent but not recorded: %s", (["kate.zz9@example.com"],),
                  exc=True)
    for item in (access, ours):
        assert redaction.filter(item) is True
    formatted = logging.Formatter().format(ours)
    assert MARKER not in access.getMessage() and MARKER not in formatted
    assert "[address:" in formatted and "ValueError" in formatted
    again = access.getMessage()
    assert redaction.filter(access) and access.getMessage() == again  # idempotent
