"""Expected errors. Each carries its HTTP answer; one handler (``api/errors.py``) renders
every one of them, whichever layer raised it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class ExpectedError(Exception):
    """Base of every expected error (an outcome, not a bug: never a 500). ``status`` is the
    HTTP status, ``code`` the stable machine name, ``message`` what the client is told;
    ``headers`` go with the answer, and ``title`` heads a console error page (``None``: a
    title by status). A subclass sets the defaults; an instance may override them."""

    status = 422
    code = "error"
    headers: Mapping[str, str] = MappingProxyType({})
    title: str | None = None

    def __init__(self, message: str, *, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class LedgerError(ExpectedError):
    """Base of the business refusals (a rule of the ledger said no): what a console form
    shows beside itself rather than as an error page."""

    code = "ledger_error"


class InvalidAddress(LedgerError):
    """The text is not a syntactically valid email address."""

    code = "invalid_address"


class InvalidCommand(LedgerError):
    """A command's arguments break a rule (a missing reason, an empty id, ...)."""

    code = "invalid_command"


class ConsentRequired(LedgerError):
    """Lifting a complaint needs the admin role and the recipient's consent note."""

    status, code = 403, "consent_required"


class ProfileNotFound(LedgerError):
    """No profile with that id has ever been recorded."""

    status, code = 404, "profile_not_found"


class InvalidMessage(LedgerError):
    """An outgoing message breaks a rule (no recipient, too many, too large, no from, ...)."""

    code = "invalid_message"


class SenderPaused(LedgerError):
    """The sender is paused (bounce or complaint rates): nothing is sent until an admin resumes."""

    status, code = 409, "sender_paused"


class AddressNotFound(LedgerError):
    """No event has ever been recorded for that address."""

    status, code = 404, "address_not_found"


class ErasureUnavailable(LedgerError):
    """Erasure is not configured here (``BOUNCELEDGER_ERASURE_KEY`` is unset)."""

    status, code = 503, "erasure_unavailable"


class ErasureIncomplete(LedgerError):
    """The erasure is recorded and the data key deleted, but a cache could not be cleaned:
    the same request again completes it."""

    status, code = 503, "erasure_incomplete"


class InvalidWebhook(LedgerError):
    """A webhook endpoint request breaks a rule (URL, private target, unknown event type)."""

    code = "invalid_webhook"


class WebhookNotFound(LedgerError):
    """No webhook endpoint (or delivery of it) with that id."""

    status, code = 404, "webhook_not_found"


class DeliveryErased(LedgerError):
    """The delivery's address was erased: its payload is gone, so it cannot be re-sent."""

    status, code = 409, "delivery_erased"
