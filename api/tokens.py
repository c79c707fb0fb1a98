"""API tokens: random secrets shown once, stored only as SHA-256 hashes.

Unsalted SHA-256 is the right hash for these: a token is 256 random bits, so there is no
dictionary to precompute and nothing a slow, salted hash would add — and a lookup by hash is
one indexed read. It would be wrong for short or guessable secrets, which is why a token we
did not generate (``BOOTSTRAP_TOKEN``) must be as strong as ours (``token_weakness``).

Every request looks its token up again (nothing is cached), so a revocation — through the API,
or ``bounceledger tokens revoke`` in another process — holds from the next request on, in
every process. Revoking a token also ends its console sessions (``api/sessions.py``).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.sql import Cursor, Database
from api.sender_binding import Binding
from api.sessions import SessionStore
from domain.errors import ExpectedError, InvalidCommand

ROLES = ("viewer", "sender", "operator", "admin")
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"viewer"}),
    "sender": frozenset({"sender"}),
    "operator": frozenset({"viewer", "operator"}),
    "admin": frozenset(ROLES),
}

CREATE = (
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    "name TEXT PRIMARY KEY, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, "
    "created_at TEXT NOT NULL, binding TEXT)"
)
COLUMNS = "name, role, binding"


class TokenError(ExpectedError):
    """A token request that cannot be met (unknown role, name taken or unknown, a sender
    this token may not use)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message, status=status, code=code)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name and role, and for a bound ``sender`` token what it may
    send as (``api/sender_binding.py``; ``None``: anything)."""

    name: str
    role: str
    binding: Binding | None = None

    def may(self, role: str) -> bool:
        return role in GRANTS[self.role]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_weakness(token: str) -> str | None:
    """Why ``token`` is weaker than a generated one (256 random bits), or ``None``.

    Entropy is estimated from the alphabet used: 4 bits per hex digit, 3.3 per decimal digit,
    6 per character otherwise (base64); at least 12 different characters."""
    body = token.removeprefix("bl_")
    if not body or not all(c in string.printable and not c.isspace() for c in body):
        return "it must be printable ASCII without spaces"
    if all(c in string.digits for c in body):
        bits_per_char = math.log2(10)
    elif all(c in string.hexdigits for c in body):
        bits_per_char = 4.0
    else:
        bits_per_char = 6.0
    if len(body) * bits_per_char < 256 or len(set(body)) < 12:
        return ("it must carry 256 random bits like a generated token: e.g. "
                "`openssl rand -hex 32` or `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`")
    return None


def _checked_binding(role: str, senders: Sequence[str] | None,
                     from_domains: Sequence[str] | None) -> Binding | None:
    if senders is not None and role != "sender":
        raise TokenError("invalid_binding", "only sender tokens are bound to senders", 422)
    try:
        return Binding.parse(senders, from_domains)
    except InvalidCommand as error:
        raise TokenError("invalid_binding", error.message, 422) from None


def _described(binding: Binding | None) -> dict[str, list[str] | None]:
    return binding.describe() if binding else {"senders": None, "from_domains": None}


def _principal(row: tuple[str, str, str | None]) -> Principal:
    return Principal(row[0], row[1], Binding.from_json(row[2]))


class TokenStore:
    """Tokens in SQL, looked up on every request; console sessions live beside them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sessions = SessionStore(db)

    def create_table(self) -> None:
        with self.db.write() as cur:
            cur.execute(CREATE)
            if not self._has_binding_column(cur):  # a table from before sender binding
                cur.execute("ALTER TABLE api_tokens ADD COLUMN binding TEXT")
        self.sessions.create_table()

    def _has_binding_column(self, cur: Cursor) -> bool:
        if self.db.dialect == "sqlite":
            cur.execute("SELECT 1 FROM pragma_table_info('api_tokens') WHERE name = 'binding'")
        else:
            cur.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = 'api_tokens' "
                        "AND column_name = 'binding'")
        return cur.fetchone() is not None

    def create(self, name: str, role: str, token: str | None = None,
               senders: Sequence[str] | None = None,
               from_domains: Sequence[str] | None = None) -> str:
        """Register a token and return it; this is the only time it is seen."""
        name = name.strip()
        if role not in ROLES:
            raise TokenError("invalid_role", f"role must be one of {', '.join(ROLES)}", 422)
        if not name or len(name) > 100 or not name.isprintable() or "/" in name:
            raise TokenError("invalid_name", "name must be 1 to 100 printable characters, "
                             "without '/'", 422)
        bound = _checked_binding(role, senders, from_domains)
        token = token or "bl_" + secrets.token_urlsafe(32)
        with self.db.write() as cur:
            if self._exists(cur, name):
                raise TokenError("token_exists", f"a token named {name!r} exists", 409)
            cur.execute("INSERT INTO api_tokens (name, role, token_hash, created_at, binding) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (name, role, hash_token(token), datetime.now(UTC).isoformat(),
                         bound.to_json() if bound else None))
        return token

    @staticmethod
    def _exists(cur: Cursor, name: str) -> bool:
        cur.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,))
        return cur.fetchone() is not None

    def authenticate(self, token: str) -> Principal | None:
        """The token's holder, read now: a revoked token fails at once in every process."""
        with self.db.read() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM api_tokens WHERE token_hash = ?",
                        (hash_token(token),))
            row = cur.fetchone()
        return _principal(row) if row else None

    def list(self) -> list[dict[str, Any]]:
        with self.db.read() as cur:
            cur.execute("SELECT name, role, created_at, binding FROM api_tokens ORDER BY name")
            rows = cur.fetchall()
        return [{"name": n, "role": r, "created_at": c, **_described(Binding.from_json(b))}
                for n, r, c, b in rows]

    def bind(self, name: str, senders: Sequence[str] | None,
             from_domains: Sequence[str] | None = None) -> None:
        """Set what a ``sender`` token may send as (``senders`` ``None``: anything)."""
        with self.db.write() as cur:
            cur.execute("SELECT role FROM api_tokens WHERE name = ?", (name,))
            row = cur.fetchone()
            if row is None:
                raise TokenError("token_not_found", f"no token named {name!r}", 404)
            bound = _checked_binding(row[0], senders, from_domains)
            cur.execute("UPDATE api_tokens SET binding = ? WHERE name = ?",
                        (bound.to_json() if bound else None, name))

    def revoke(self, name: str) -> None:
        """Delete the token and end its console sessions, in one transaction."""
        with self.db.write() as cur:
            if not self._exists(cur, name):
                raise TokenError("token_not_found", f"no token named {name!r}", 404)
            cur.execute("DELETE FROM api_tokens WHERE name = ?", (name,))
            self.sessions.end_all_in(cur, name)

    def end_sessions(self, name: str) -> int:
        """End every console session of the token (it stays valid); how many there were."""
        with self.db.write() as cur:
            if not self._exists(cur, name):
                raise TokenError("token_not_found", f"no token named {name!r}", 404)
            return self.sessions.end_all_in(cur, name)

    def count(self) -> int:
        with self.db.read() as cur:
            cur.execute("SELECT COUNT(*) FROM api_tokens")
            return int(cur.fetchone()[0])

    def bootstrap(self, token: str) -> bool:
        """Register ``BOUNCELEDGER_BOOTSTRAP_TOKEN`` as admin when no token exists yet."""
        if not token or self.count():
            return False
        self.create("bootstrap", "admin", token)
        return True
