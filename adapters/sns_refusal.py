"""The one error of SNS verification."""

from __future__ import annotations

from domain.errors import ExpectedError


class SnsRefused(ExpectedError):
    """A message we will not accept; ``status`` is the HTTP answer, ``code`` the reason
    (stable: it is also the metrics label)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, status=status, code=code)
