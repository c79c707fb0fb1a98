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
import json
import math
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.addresses import normalize_address
from adapters.sql import Cursor, Database
from api.sessions import SessionStore
from domain.errors import InvalidAddress

ROLES = ("viewer", "sender", "operator", "admin")
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"viewer"}),
    "sender": frozenset({"sender"}),
    "operator": frozenset({"viewer", "operator"}),
    "admin": frozenset(ROLES),
}
MAX_SENDERS = 50

CREATE = (
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    "name TEXT PRIMARY KEY, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, "
    "created_at TEXT NOT NULL, senders TEXT)"
)
COLUMNS = "name, role, senders"


class TokenError(Exception):
    """A token request that cannot be met (unknown role, name taken or unknown, a sender
    this token may not use)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name and role, and for a bound ``sender`` token the senders
    and from-domains it may send as (``None``: any)."""

    name: str
    role: str
    senders: tuple[str, ...] | None = None

    def may(self, role: str) -> bool:
        return role in GRANTS[self.role]

    def may_send_as(self, sender: str, from_domain: str | None = None) -> bool:
        """A bound token sends only as one of its senders, from one of its domains (a domain
        matches in any spelling: ``Shop.Example`` binds ``shop.example``)."""
        if self.senders is None:
            return True
        allowed = {*self.senders, *(d for d in map(_domain, self.senders) if d)}
        return sender in allowed and (from_domain is None or from_domain in allowed)


def _domain(name: str) -> str | None:
    """``name`` as a normalized domain (SPEC §2), or ``None`` when it is not one."""
    try:
        return normalize_address(f"x@{name}").partition("@")[2]
    except InvalidAddress:
        return None


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


def _checked_senders(role: str, senders: Sequence[str] | None) -> tuple[str, ...] | None:
    if senders is None:
        return None
    if role != "sender":
        raise TokenError("invalid_senders", "only sender tokens are bound to senders", 422)
    cleaned = tuple(dict.fromkeys(s.strip() for s in senders))
    if not 0 < len(cleaned) <= MAX_SENDERS or not all(
            0 < len(s) <= 200 and s.isprintable() for s in cleaned):
        raise TokenError("invalid_senders", f"senders: 1 to {MAX_SENDERS} names of 1 to 200 "
                         "printable characters", 422)
    return cleaned


def _principal(row: tuple[str, str, str | None]) -> Principal:
    return Principal(row[0], row[1], tuple(json.loads(row[2])) if row[2] else None)


class TokenStore:
    """Tokens in SQL, looked up on every request; console sessions live beside them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sessions = SessionStore(db)

    def create_table(self) -> None:
        with self.db.write() as cur:
            cur.execute(CREATE)
            if not self._has_senders_column(cur):  # a table from before sender binding
                cur.execute("ALTER TABLE api_tokens ADD COLUMN senders TEXT")
        self.sessions.create_table()

    def _has_senders_column(self, cur: Cursor) -> bool:
        if self.db.dialect == "sqlite":
            cur.execute("SELECT 1 FROM pragma_table_info('api_tokens') WHERE name = 'senders'")
        else:
            cur.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = 'api_tokens' "
                        "AND column_name = 'senders'")
        return cur.fetchone() is not None

    def create(self, name: str, role: str, token: str | None = None,
               senders: Sequence[str] | None = None) -> str:
        """Register a token and return it; this is the only time it is seen."""
        name = name.strip()
        if role not in ROLES:
            raise TokenError("invalid_role", f"role must be one of {', '.join(ROLES)}", 422)
        if not name or len(name) > 100 or not name.isprintable() or "/" in name:
            raise TokenError("invalid_name", "name must be 1 to 100 printable characters, "
                             "without '/'", 422)
        bound = _checked_senders(role, senders)
        token = token or "bl_" + secrets.token_urlsafe(32)
        with self.db.write() as cur:
            if self._exists(cur, name):
                raise TokenError("token_exists", f"a token named {name!r} exists", 409)
            cur.execute("INSERT INTO api_tokens (name, role, token_hash, created_at, senders) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (name, role, hash_token(token), datetime.now(UTC).isoformat(),
                         json.dumps(bound) if bound is not None else None))
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
            cur.execute("SELECT name, role, created_at, senders FROM api_tokens ORDER BY name")
            return [{"name": n, "role": r, "created_at": c,
                     "senders": json.loads(s) if s else None} for n, r, c, s in cur.fetchall()]

    def bind(self, name: str, senders: Sequence[str] | None) -> None:
        """Set the senders a ``sender`` token may send as (``None``: any)."""
        with self.db.write() as cur:
            cur.execute("SELECT role FROM api_tokens WHERE name = ?", (name,))
            row = cur.fetchone()
            if row is None:
                raise TokenError("token_not_found", f"no token named {name!r}", 404)
            bound = _checked_senders(row[0], senders)
            cur.execute("UPDATE api_tokens SET senders = ? WHERE name = ?",
                        (json.dumps(bound) if bound is not None else None, name))

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
