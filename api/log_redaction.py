"""No full address in any log line: access-log paths and our own messages are redacted.

uvicorn's access log writes the request path, and ``GET``/``DELETE /v1/addresses/<address>``
put the address there — also after the address was erased. ``redact_path`` replaces the
address part of ``/v1/…`` and ``/console/…`` address paths (a profile id or sender too, when
it holds an ``@``), all of any other path holding an ``@``,
every query value that decodes to something with an ``@``, and the search parameters, by
``[address:<hash>]``: an HMAC-SHA256 (first 12 hex digits) of the normalized address under a
key derived from ``ERASURE_KEY``, so lines about one address can still be matched up;
``[address]`` without that key. ``redact_text`` does the same for address-shaped text in any
other message and traceback. ``AddressRedaction`` is the logging filter applying both.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any
from urllib.parse import unquote

from adapters.addresses import normalize_address
from domain.errors import InvalidAddress

ACCESS_LOGGER = "uvicorn.access"
# /v1|console/addresses|profiles|senders/<id>[/suffix]; <id> may contain "/" (and a profile id
# or a sender may be an address).
ID_ROUTE = re.compile(r"(/(?:v1|console)/(addresses|profiles|senders)/)(.+?)"
                      r"(/(?:history|status-at|reset|suppress|email|resume))?$")
SEARCH_PARAMS = frozenset({"q", "address"})
MARK = re.compile(r"\[address(?::[0-9a-f]{12})?\]")
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40|%2540)[\w-]+(?:\.[\w-]+)+")


class Redactor:
    """Replaces addresses by a keyed hash (or a fixed mark without a key)."""

    def __init__(self, erasure_key: bytes | None) -> None:
        self.key = (hmac.new(erasure_key, b"bounceledger log redaction", hashlib.sha256)
                    .digest() if erasure_key else None)

    def mark(self, text: str) -> str:
        if MARK.fullmatch(text):  # already redacted (two filters on one record)
            return text
        if self.key is None:
            return "[address]"
        try:
            canonical = normalize_address(_decoded(text))
        except InvalidAddress:
            canonical = _decoded(text)
        digest = hmac.new(self.key, canonical.encode("utf-8", "replace"), hashlib.sha256)
        return f"[address:{digest.hexdigest()[:12]}]"

    def redact_path(self, full_path: str) -> str:
        """A request path with its query, safe to log."""
        path, question, query = full_path.partition("?")
        decoded = _decoded(path)
        route = ID_ROUTE.fullmatch(decoded)
        if route and (route[2] == "addresses" or "@" in route[3]):
            path = f"{route[1]}{self.mark(route[3])}{route[4] or ''}"
        elif "@" in decoded:  # another path: which segments belong to the address is unclear
            path = f"/{self.mark(decoded[1:])}"
        if not question:
            return path
        return f"{path}?{'&'.join(self._pair(pair) for pair in query.split('&'))}"

    def _pair(self, pair: str) -> str:
        key, equals, value = pair.partition("=")
        if value and (_decoded(key, True) in SEARCH_PARAMS or "@" in _decoded(value, True)):
            return f"{key}{equals}{self.mark(value)}"
        return pair

    def redact_text(self, text: str) -> str:
        return EMAIL.sub(lambda m: self.mark(m.group(0)), text)


def _decoded(text: str, plus: bool = False) -> str:
    """Percent-decoding until nothing changes (a ``next=`` parameter is encoded twice);
    ``plus``: a query value, where "+" is a space."""
    for _ in range(4):
        decoded = unquote(text.replace("+", " ") if plus else text)
        if decoded == text:
            break
        text = decoded
    return text


class AddressRedaction(logging.Filter):
    """Redacts every record it sees: the path of an access-log line, the text of the rest
    (message and traceback). Put it on handlers, so records of every logger pass it."""

    def __init__(self, erasure_key: str | bytes | None = None, name: str = "") -> None:
        super().__init__(name)
        key = erasure_key.encode() if isinstance(erasure_key, str) else erasure_key
        self.redactor = Redactor(key or None)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) \
                and len(record.args) == 5:
            args: list[Any] = list(record.args)
            args[2] = self.redactor.redact_path(str(args[2]))
            record.args = tuple(args)
            return True
        message = record.getMessage()
        redacted = self.redactor.redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redactor.redact_text(
                logging.Formatter().formatException(record.exc_info))
        return True


def install(erasure_key: bytes | None) -> None:
    """Redact the access log however uvicorn was started (``uvicorn api.asgi:app`` included):
    a filter on the logger itself, which is where uvicorn creates its access records."""
    access = logging.getLogger(ACCESS_LOGGER)
    for existing in [f for f in access.filters if isinstance(f, AddressRedaction)]:
        access.removeFilter(existing)
    access.addFilter(AddressRedaction(erasure_key))


def log_config(erasure_key: str) -> dict[str, Any]:
    """uvicorn's logging configuration with the filter on both handlers, and our own loggers
    (the root) writing through the redacting default handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG,
                              "handlers": {k: dict(v) for k, v in
                                           LOGGING_CONFIG["handlers"].items()}}
    config["filters"] = {"redact": {"()": AddressRedaction, "erasure_key": erasure_key}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config
