"""Text that every store can hold (SPEC §6.9).

Reports carry text written by strangers: a remote mail server's diagnostic, a ``From``
domain, a caller's reason. PostgreSQL ``text`` cannot hold NUL, and no UTF-8 store can hold
a lone surrogate (JSON ``"\\ud800"``, or bytes Python decoded with ``surrogateescape``). Such
text is made storable once, where it enters the domain, the same way for every path (SNS,
SQS, API, console, CLI): NUL and lone surrogates become U+FFFD; a valid surrogate pair
becomes the character it encodes. Everything else is kept exactly.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD (unchanged if none)."""
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", REPLACEMENT) if "\x00" in text else text


def storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable(text)
