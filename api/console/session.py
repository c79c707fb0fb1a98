"""Console sessions: an HMAC-signed cookie naming the API token that logged in.

The cookie holds a random session id and the login time, signed; never the token. The session
itself is a row in the database (``api/sessions.py``): every request checks that the row is
live and that its token still exists unchanged, so logout, revoking or replacing the token, and
an admin ending the token's sessions hold at once in every process. CSRF tokens are keyed
hashes of the session id (of a separate login nonce before login), compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.throttle import FailureThrottle
from api.tokens import GRANTS, Principal, TokenStore
from domain.errors import ExpectedError

SESSION_COOKIE = "bl_session"
LOGIN_COOKIE = "bl_login"
MAX_AGE_S = 12 * 3600
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
CONSOLE_ROLES = ("viewer", "operator", "admin")


class LoginRequired(ExpectedError):
    """No valid session: a 401, which the console answers with a redirect to the login
    page (``api.console.error_page``)."""

    status, code = 401, "login_required"

    def __init__(self, message: str = "log in to use the console") -> None:
        super().__init__(message)


class ConsoleError(ExpectedError):
    """An expected console failure rendered as an HTML error page under its own title."""

    code = "console_error"

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message, status=status)
        self.title = title


@dataclass(frozen=True)
class ConsoleUser:
    """Who is logged in: the token's name and role, and the CSRF token of the session."""

    name: str
    role: str
    csrf: str

    def may(self, role: str) -> bool:
        return role in GRANTS[self.role]


class Signer:
    """HMAC-SHA256 signatures over small JSON payloads."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def mac(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def dumps(self, payload: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return f"{body}.{self.mac('session', body)}"

    def loads(self, value: str) -> dict[str, Any] | None:
        body, _, signature = value.partition(".")
        if not hmac.compare_digest(signature.encode(), self.mac("session", body).encode()):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def same(self, expected: str, given: str) -> bool:
        return hmac.compare_digest(expected.encode(), given.encode())


def secure_cookie(request: Request) -> bool:
    """``Secure`` unless the console is reached over plain http on this machine."""
    return request.url.scheme == "https" or request.url.hostname not in LOCAL_HOSTS


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True,
                        samesite="strict", secure=secure_cookie(request))


class LoginThrottle(FailureThrottle):
    """Ten failed logins per client in ten minutes, then 429 until the window passes."""

    def __init__(self, limit: int = 10, window_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limit, window_s, clock)

    def check(self, client: str) -> None:
        if self.blocked(client):
            raise ConsoleError(429, "Too many failed logins",
                               "Too many wrong tokens from your address; wait a few "
                               "minutes and try again.")


class Sessions:
    """Issues and checks session cookies and CSRF tokens; the sessions themselves are rows
    in the database (``api/sessions.py``), so logout and revocation hold in every process."""

    def __init__(self, key: bytes, tokens: TokenStore) -> None:
        self.signer, self.tokens = Signer(key), tokens

    def login_nonce(self, request: Request) -> str:
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        return nonce if len(nonce) == 32 else secrets.token_hex(16)

    def login_csrf(self, nonce: str) -> str:
        return self.signer.mac("login", nonce)

    def check_login_csrf(self, request: Request, given: str) -> None:
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not self.signer.same(self.login_csrf(nonce), given):
            raise ConsoleError(403, "Form expired",
                               "The login form was not accepted (missing or wrong CSRF "
                               "token). Reload the login page and try again.")

    def issue(self, principal: Principal, token_hash: str) -> str:
        """A new session for the token: its row, and the signed cookie value naming it."""
        now = int(time.time())
        session_id = self.tokens.sessions.start(principal.name, token_hash, now, MAX_AGE_S)
        return self.signer.dumps({"s": session_id, "t": now})

    def user(self, request: Request) -> ConsoleUser:
        session_id = self._session_id(request)
        held = self.tokens.sessions.holder(session_id, int(time.time()))
        if held is None:
            raise LoginRequired
        name, role = held
        return ConsoleUser(name, role, self.signer.mac("csrf", session_id))

    def end(self, request: Request) -> None:
        """Logout: the session's row goes, so its cookie is worthless from now on."""
        self.tokens.sessions.end(self._session_id(request))

    def _session_id(self, request: Request) -> str:
        payload = self.signer.loads(request.cookies.get(SESSION_COOKIE, ""))
        if payload is None or not isinstance(payload.get("t"), int) \
                or not isinstance(payload.get("s"), str):
            raise LoginRequired
        if time.time() - payload["t"] > MAX_AGE_S:
            raise LoginRequired
        return str(payload["s"])

    def check_csrf(self, user: ConsoleUser, given: str) -> None:
        if not given or not self.signer.same(user.csrf, given):
            raise ConsoleError(403, "Form refused",
                               "This form was not accepted: its CSRF token is missing or "
                               "wrong. Go back, reload the page and submit it again.")
