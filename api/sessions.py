"""Console sessions kept in the database, so that ending one holds in every process.

The cookie carries a random session id (HMAC-signed by ``api/console/session.py``); the table
keeps only its SHA-256, the token it belongs to (name and stored hash) and when it expires.
A request is logged in while its row exists, has not expired, and its token still exists
with the same hash — one indexed join. Logout deletes the row; revoking a token deletes its
rows in the same transaction; an admin can end every session of a token and keep the token.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from adapters.sql import Cursor, Database

CREATE = (
    "CREATE TABLE IF NOT EXISTS console_sessions ("
    "id_hash TEXT PRIMARY KEY, token_name TEXT NOT NULL, token_hash TEXT NOT NULL, "
    "created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)"
)
INDEX = ("CREATE INDEX IF NOT EXISTS console_sessions_by_token "
         "ON console_sessions (token_name)")


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Rows of ``console_sessions``; times are Unix seconds passed in by the caller."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_table(self) -> None:
        with self.db.write() as cur:
            cur.execute(CREATE)
            cur.execute(INDEX)

    def start(self, token_name: str, token_hash: str, now: int, max_age_s: int) -> str:
        """A new session id for the token (expired rows are swept on the way)."""
        session_id = secrets.token_hex(32)
        with self.db.write() as cur:
            cur.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))
            cur.execute("INSERT INTO console_sessions (id_hash, token_name, token_hash, "
                        "created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                        (_hash(session_id), token_name, token_hash, now, now + max_age_s))
        return session_id

    def holder(self, session_id: str, now: int) -> tuple[str, str] | None:
        """``(token name, role)`` of a live session whose token still exists unchanged."""
        with self.db.read() as cur:
            cur.execute("SELECT t.name, t.role FROM console_sessions s JOIN api_tokens t "
                        "ON t.name = s.token_name AND t.token_hash = s.token_hash "
                        "WHERE s.id_hash = ? AND s.expires_at > ?", (_hash(session_id), now))
            row = cur.fetchone()
        return (row[0], row[1]) if row else None

    def end(self, session_id: str) -> None:
        with self.db.write() as cur:
            cur.execute("DELETE FROM console_sessions WHERE id_hash = ?", (_hash(session_id),))

    @staticmethod
    def end_all_in(cur: Cursor, token_name: str) -> int:
        """End every session of a token inside the caller's transaction; how many."""
        cur.execute("SELECT COUNT(*) FROM console_sessions WHERE token_name = ?", (token_name,))
        count = int(cur.fetchone()[0])
        cur.execute("DELETE FROM console_sessions WHERE token_name = ?", (token_name,))
        return count

    def live(self, token_name: str, now: int | None = None) -> int:
        """How many sessions of the token are live now."""
        with self.db.read() as cur:
            cur.execute("SELECT COUNT(*) FROM console_sessions WHERE token_name = ? "
                        "AND expires_at > ?", (token_name, int(now or time.time())))
            return int(cur.fetchone()[0])
