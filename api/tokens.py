"""API tokens: random secrets shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.sql import Cursor, Database

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
    "created_at TEXT NOT NULL)"
)


class TokenError(Exception):
    """A token request that cannot be met (unknown role, name taken or unknown)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name and role."""

    name: str
    role: str

    def may(self, role: str) -> bool:
        return role in GRANTS[self.role]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Tokens in SQL; lookups are cached for ``cache_seconds`` (a revocation takes that long
    to reach other processes; this process forgets at once)."""

    def __init__(self, db: Database, cache_seconds: float = 5.0) -> None:
        self.db, self.cache_seconds = db, cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def create_table(self) -> None:
        with self.db.write() as cur:
            cur.execute(CREATE)

    def create(self, name: str, role: str, token: str | None = None) -> str:
        """Register a token and return it; this is the only time it is seen."""
        name = name.strip()
        if role not in ROLES:
            raise TokenError("invalid_role", f"role must be one of {', '.join(ROLES)}", 422)
        if not name or len(name) > 100 or not name.isprintable() or "/" in name:
            raise TokenError("invalid_name", "name must be 1 to 100 printable characters, "
                             "without '/'", 422)
        token = token or "bl_" + secrets.token_urlsafe(32)
        with self.db.write() as cur:
            if self._exists(cur, name):
                raise TokenError("token_exists", f"a token named {name!r} exists", 409)
            cur.execute("INSERT INTO api_tokens (name, role, token_hash, created_at) "
                        "VALUES (?, ?, ?, ?)",
                        (name, role, hash_token(token), datetime.now(UTC).isoformat()))
        return token

    @staticmethod
    def _exists(cur: Cursor, name: str) -> bool:
        cur.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,))
        return cur.fetchone() is not None

    def authenticate(self, token: str) -> Principal | None:
        digest = hash_token(token)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self.db.read() as cur:
            cur.execute("SELECT name, role FROM api_tokens WHERE token_hash = ?", (digest,))
            row = cur.fetchone()
        principal = Principal(row[0], row[1]) if row else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self.cache_seconds, principal)
        return principal

    def holder(self, name: str) -> tuple[Principal, str] | None:
        """The token named ``name`` and its stored hash (console sessions check both)."""
        with self.db.read() as cur:
            cur.execute("SELECT name, role, token_hash FROM api_tokens WHERE name = ?", (name,))
            row = cur.fetchone()
        return (Principal(row[0], row[1]), row[2]) if row else None

    def list(self) -> list[dict[str, str]]:
        with self.db.read() as cur:
            cur.execute("SELECT name, role, created_at FROM api_tokens ORDER BY name")
            return [{"name": n, "role": r, "created_at": c} for n, r, c in cur.fetchall()]

    def revoke(self, name: str) -> None:
        with self.db.write() as cur:
            if not self._exists(cur, name):
                raise TokenError("token_not_found", f"no token named {name!r}", 404)
            cur.execute("DELETE FROM api_tokens WHERE name = ?", (name,))
        self._cache.clear()

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
