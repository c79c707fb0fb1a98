"""Checks an outgoing message against SES's limits before anything is looked up or sent.

SES v2 ``SendEmail`` limits (https://docs.aws.amazon.com/ses/latest/dg/quotas.html): at most 50
recipients per message and 40 MB per message after MIME encoding. We send one message per
recipient, but keep the 50-recipient cap per request so one request stays one short unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from adapters.addresses import normalize_address
from domain.errors import InvalidAddress, InvalidMessage

MAX_RECIPIENTS = 50
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
# Base64 grows a body by 4/3; headers and MIME boundaries take a little more.
ENCODING_GROWTH = 4 / 3
MAX_SUBJECT_CHARS = 998  # RFC 5322 line length
MAX_SENDER_CHARS = 200
MAX_PROFILE_ID_CHARS = 200


class OutgoingMessage(BaseModel):
    """A message as the caller gives it: the body of ``POST /v1/messages`` (SPEC §5, where
    the from address is named ``from``) and what Python callers pass (``from_address=``).
    ``profile_ids`` (optional) lines up with ``to``. Only its shape is checked on the way in;
    the limits are ``validate``'s, whose errors say which field broke which rule."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    from_address: str = Field(alias="from")
    to: list[str]
    subject: str
    text: str | None = None
    html: str | None = None
    sender: str | None = None
    profile_ids: list[str | None] | None = None


@dataclass(frozen=True)
class ValidMessage:
    """A message that passed every check: recipients normalized, unique, in input order."""

    from_address: str
    from_normalized: str
    recipients: tuple[str, ...]
    profile_ids: tuple[str | None, ...]
    subject: str
    text: str | None
    html: str | None
    sender: str


def validate(message: OutgoingMessage) -> ValidMessage:
    """Return the checked message or raise ``InvalidMessage`` / ``InvalidAddress``."""
    from_raw, from_normalized = _from_address(message.from_address)
    recipients = _recipients(message.to)
    profile_ids = _profile_ids(message.profile_ids, len(recipients))
    subject = _subject(message.subject)
    text, html = _bodies(message.text, message.html, subject)
    return ValidMessage(from_raw, from_normalized, recipients, profile_ids, subject, text, html,
                        _sender(message.sender, from_normalized))


def _from_address(raw: object) -> tuple[str, str]:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidMessage("from: a from address is required")
    if "\r" in raw or "\n" in raw:
        raise InvalidMessage("from: line breaks are not allowed")
    try:
        return raw.strip(), normalize_address(raw)
    except InvalidAddress as error:
        raise InvalidAddress(f"from: {error.message}") from None


def _recipients(to: Sequence[str]) -> tuple[str, ...]:
    if isinstance(to, str) or not to:
        raise InvalidMessage("to: at least one recipient is required")
    if len(to) > MAX_RECIPIENTS:
        raise InvalidMessage(f"to: at most {MAX_RECIPIENTS} recipients per request, got {len(to)}")
    seen: dict[str, int] = {}
    for index, raw in enumerate(to):
        try:
            address = normalize_address(raw)
        except InvalidAddress as error:
            raise InvalidAddress(f"to[{index}]: {error.message}") from None
        if address in seen:
            raise InvalidMessage(f"to[{index}]: {address} is already to[{seen[address]}]")
        seen[address] = index
    return tuple(seen)


def _profile_ids(profile_ids: Sequence[str | None] | None, count: int) -> tuple[str | None, ...]:
    if profile_ids is None:
        return (None,) * count
    if isinstance(profile_ids, str) or len(profile_ids) != count:
        raise InvalidMessage("profile_ids: one entry (or null) per recipient in to")
    for index, profile_id in enumerate(profile_ids):
        if profile_id is not None and not 0 < len(profile_id.strip()) <= MAX_PROFILE_ID_CHARS:
            raise InvalidMessage(f"profile_ids[{index}]: 1 to {MAX_PROFILE_ID_CHARS} characters")
    return tuple(p.strip() if p is not None else None for p in profile_ids)


def _subject(subject: object) -> str:
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidMessage("subject: a subject is required")
    if "\r" in subject or "\n" in subject:
        raise InvalidMessage("subject: line breaks are not allowed")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise InvalidMessage(f"subject: at most {MAX_SUBJECT_CHARS} characters")
    return subject


def _bodies(text: str | None, html: str | None, subject: str) -> tuple[str | None, str | None]:
    text, html = text or None, html or None
    if text is None and html is None:
        raise InvalidMessage("text or html: a message needs a body")
    size = sum(len(part.encode("utf-8")) for part in (text or "", html or "", subject))
    if size * ENCODING_GROWTH > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message larger than SES's {MAX_MESSAGE_BYTES // 2**20} MB limit "
                             "once encoded")
    return text, html


def _sender(sender: str | None, from_normalized: str) -> str:
    """SPEC §2: the sender defaults to the from address's domain."""
    if sender is None:
        return from_normalized.rpartition("@")[2]
    sender = sender.strip()
    if not 0 < len(sender) <= MAX_SENDER_CHARS:
        raise InvalidMessage(f"sender: 1 to {MAX_SENDER_CHARS} characters")
    return sender
