"""Address normalization (SPEC §2): where text from outside becomes an address.

The domain is mapped and encoded per UTS #46 non-transitional processing with IDNA 2008
validity, the way browsers and registries treat it, by the ``idna`` package (which is why this
lives among the adapters: ``domain/`` imports only the standard library). Python's own ``idna``
codec is IDNA 2003, which turns ``faß.de`` into ``fass.de`` — another registrable domain — so a
bounce on one spelling would not block the other. Here a U-label and its A-label are one
address: ``kate@faß.de`` and ``kate@xn--fa-hia.de`` give the same aggregate.

- ASCII domains are only lower-cased and checked label by label (letters, digits, hyphens):
  nothing about them changed, so every aggregate recorded under an ASCII spelling keeps its id.
- Non-ASCII domains go through the UTS #46 mapping (case, fullwidth forms, the Kelvin sign,
  ideographic full stops) and IDNA 2008's rules (joiners only in their contexts, bidi, NFC);
  ``ß`` and ``ς`` are kept (non-transitional). Refused: anything IDNA 2008 does not allow
  (symbols, emoji, a stray zero-width joiner) — a 422, never a silently different address.
- The local part is NFC-normalized (RFC 6532) and lower-cased; which local parts are one
  mailbox is the receiving server's business, so nothing else is folded.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr

import idna

from domain.addresses import address_id
from domain.errors import InvalidAddress

__all__ = ["address_id", "normalize_address"]

_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# An address that is already normalized (the common case on the hot check path) matches this
# in one step; anything else takes the full route. ``tests/adapters`` checks both agree.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_NORMALIZED = re.compile(
    rf"(?=.{{1,254}}$)(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def normalize_address(raw: str) -> str:
    """Trim, drop a display name, lower-case, IDNA-encode the domain; refuse bad syntax.

    ``normalize_address(normalize_address(x)) == normalize_address(x)`` for every valid x.
    """
    if not isinstance(raw, str):
        raise InvalidAddress("an address must be a string")
    if _NORMALIZED.fullmatch(raw) and not raw.rpartition(".")[2].isdigit():
        return raw
    return _normalize(raw)


def _normalize(raw: str) -> str:
    text = raw.strip()
    if "<" in text or '"' in text:
        text = parseaddr(text)[1]
    local, at, domain = text.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"not an email address: {raw!r}")
    local = unicodedata.normalize("NFC", local).lower()
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        raise InvalidAddress(f"invalid local part in {raw!r}")
    address = f"{local}@{_encode_domain(domain, raw)}"
    if len(address) > 254:
        raise InvalidAddress(f"address longer than 254 characters: {raw!r}")
    return address


def _encode_domain(domain: str, raw: str) -> str:
    try:
        labels = _encoded(domain).split(".")
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        raise InvalidAddress(f"invalid domain in {raw!r}") from None
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress(f"invalid domain in {raw!r}")
    if labels[-1].isdigit():
        raise InvalidAddress(f"invalid top-level domain in {raw!r}")
    encoded = ".".join(labels)
    if len(encoded) > 253:
        raise InvalidAddress(f"domain too long in {raw!r}")
    return encoded


def _encoded(domain: str) -> str:
    """The ASCII domain: lower-cased as it is, or mapped (UTS #46, non-transitional: case,
    width, compatibility forms, label dots) and encoded label by label with IDNA 2008's
    checks (CONTEXTJ joiners, bidi, hyphens)."""
    if domain.isascii():
        return domain.lower().rstrip(".")
    mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False).rstrip(".")
    return idna.encode(mapped, uts46=False).decode("ascii")
