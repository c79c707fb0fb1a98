"""Address normalization and the deterministic aggregate id derived from it."""

from __future__ import annotations

import re
from email.utils import parseaddr
from uuid import UUID, uuid5

from domain.errors import InvalidAddress

# Fixed forever: changing it would give every address a new aggregate.
ADDRESS_NAMESPACE = UUID("6f1c8a52-8f0e-5b7e-9a53-2c1d0b6f4e21")

_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# An address that is already normalized (the common case on the hot check path) matches this
# in one step; anything else takes the full route. ``tests/domain`` checks both agree.
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
    text = text.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"not an email address: {raw!r}")
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        raise InvalidAddress(f"invalid local part in {raw!r}")
    address = f"{local}@{_encode_domain(domain, raw)}"
    if len(address) > 254:
        raise InvalidAddress(f"address longer than 254 characters: {raw!r}")
    return address


def _encode_domain(domain: str, raw: str) -> str:
    try:
        labels = [_encode_label(label) for label in domain.rstrip(".").split(".")]
    except UnicodeError:
        raise InvalidAddress(f"invalid domain in {raw!r}") from None
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress(f"invalid domain in {raw!r}")
    if labels[-1].isdigit():
        raise InvalidAddress(f"invalid top-level domain in {raw!r}")
    encoded = ".".join(labels)
    if len(encoded) > 253:
        raise InvalidAddress(f"domain too long in {raw!r}")
    return encoded


def _encode_label(label: str) -> str:
    if label.isascii():
        return label
    return label.encode("idna").decode("ascii")


def address_id(address: str) -> UUID:
    """The aggregate id of an already normalized address: uuid5, stable across processes."""
    return uuid5(ADDRESS_NAMESPACE, address)
