"""Expected business errors. The API maps each class to one 4xx answer."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every expected business error; ``code`` is the stable machine name."""

    code = "ledger_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAddress(LedgerError):
    """The text is not a syntactically valid email address."""

    code = "invalid_address"


class InvalidCommand(LedgerError):
    """A command's arguments break a rule (a missing reason, an empty id, ...)."""

    code = "invalid_command"


class ConsentRequired(LedgerError):
    """Lifting a complaint needs the admin role and the recipient's consent note."""

    code = "consent_required"


class ProfileNotFound(LedgerError):
    """No profile with that id has ever been recorded."""

    code = "profile_not_found"


class InvalidMessage(LedgerError):
    """An outgoing message breaks a rule (no recipient, too many, too large, no from, ...)."""

    code = "invalid_message"


class SenderPaused(LedgerError):
    """The sender is paused (bounce or complaint rates): nothing is sent until an admin resumes."""

    code = "sender_paused"


class AddressNotFound(LedgerError):
    """No event has ever been recorded for that address."""

    code = "address_not_found"


class ErasureUnavailable(LedgerError):
    """Erasure is not configured here (``BOUNCELEDGER_ERASURE_KEY`` is unset)."""

    code = "erasure_unavailable"


class ErasureIncomplete(LedgerError):
    """The erasure is recorded and the data key deleted, but a cache could not be cleaned:
    the same request again completes it."""

    code = "erasure_incomplete"


class InvalidWebhook(LedgerError):
    """A webhook endpoint request breaks a rule (URL, private target, unknown event type)."""

    code = "invalid_webhook"


class WebhookNotFound(LedgerError):
    """No webhook endpoint (or delivery of it) with that id."""

    code = "webhook_not_found"


class DeliveryErased(LedgerError):
    """The delivery's address was erased: its payload is gone, so it cannot be re-sent."""

    code = "delivery_erased"
