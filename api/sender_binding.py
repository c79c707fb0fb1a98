"""Which senders a ``sender`` token may send as, and from which domains (issue 13).

A pause (SPEC §2 senders, ``domain/sender.py``) must hold for what the caller really sends as.
Without a binding a caller whose sender is paused could name another sender. A bound token:

- sends and records only as one of ``senders`` (naming none is fine when it has exactly one);
- sends only from an address in ``from_domains`` (when given; domains in IDNA A-label form).

The pause itself is checked on the sender *and* on the from-domain (``application/sending.py``), so
the default sender — the from-domain — cannot be used to step around it either. A token
without a binding (every token made before this existed) may still send as anyone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.addresses import normalize_address
from domain.errors import ExpectedError, InvalidAddress, InvalidCommand

MAX_ENTRIES = 50


class SenderNotAllowed(ExpectedError):
    """A bound token asked to act as a sender or from-domain outside its binding (403)."""

    code, status = "sender_not_allowed", 403


@dataclass(frozen=True)
class Binding:
    senders: tuple[str, ...]
    from_domains: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, senders: Sequence[str] | None,
              from_domains: Sequence[str] | None = None) -> Binding | None:
        """Checked entries, or ``None`` for no binding; ``InvalidCommand`` when malformed."""
        if senders is None:
            if from_domains is not None:
                raise InvalidCommand("from_domains: bind the token's senders as well")
            return None
        names = _entries("senders", senders)
        domains = None if from_domains is None else tuple(
            dict.fromkeys(_domain(d) for d in _entries("from_domains", from_domains)))
        return cls(names, domains)

    def to_json(self) -> str:
        return json.dumps({"senders": self.senders, "from_domains": self.from_domains})

    @classmethod
    def from_json(cls, text: str | None) -> Binding | None:
        if not text:
            return None
        data = json.loads(text)
        domains = data.get("from_domains")
        return cls(tuple(data["senders"]), tuple(domains) if domains is not None else None)

    def sender(self, requested: str | None) -> str:
        """The sender a request acts as: the one it names, or the token's only sender."""
        if requested is None:
            if len(self.senders) > 1:
                raise InvalidCommand("sender: name one; this token may send as "
                                     f"{', '.join(self.senders)}")
            return self.senders[0]
        if requested.strip() not in self.senders:
            raise SenderNotAllowed(f"this token may not send as {requested.strip()!r}; it may "
                                   f"send as {', '.join(self.senders)}")
        return requested.strip()

    def check_from(self, from_domain: str) -> None:
        if self.from_domains is not None and from_domain not in self.from_domains:
            raise SenderNotAllowed(f"this token may not send from {from_domain!r}; it may "
                                   f"send from {', '.join(self.from_domains)}")

    def describe(self) -> dict[str, list[str] | None]:
        return {"senders": list(self.senders),
                "from_domains": list(self.from_domains) if self.from_domains is not None
                else None}


def _entries(field: str, values: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(str(v).strip() for v in values))
    if not 0 < len(cleaned) <= MAX_ENTRIES or not all(
            0 < len(v) <= 200 and v.isprintable() for v in cleaned):
        raise InvalidCommand(f"{field}: 1 to {MAX_ENTRIES} names of 1 to 200 printable "
                             "characters")
    return cleaned


def _domain(name: str) -> str:
    try:
        return normalize_address(f"x@{name}").partition("@")[2]
    except InvalidAddress:
        raise InvalidCommand(f"from_domains: {name!r} is not a domain") from None
