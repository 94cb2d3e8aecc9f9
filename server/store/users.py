"""Users in the database: a staff token's user, signed-out tokens, clerks' names.

Creating and changing accounts uses the ORM (server/operations/accounts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from taboor.server.store import Tx

_CLERKS = """
SELECT username FROM users WHERE center_id = :center_id AND role = 'clerk' ORDER BY username"""


def clerk_names(tx: Tx, center_id: int) -> list[str]:
    """The usernames of the center's clerks, in order."""
    return tx.column(_CLERKS, {"center_id": center_id})


_USER_BY_ID = """
SELECT id, role, center_id, password_hash, counter_id,
    EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = :token_id) AS revoked
FROM users WHERE id = :id AND active = :yes"""
_REVOKE = """
INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES (:token_id, :user_id, :expires)
ON CONFLICT (token_id) DO NOTHING"""
_PRUNE_REVOKED = "DELETE FROM revoked_tokens WHERE expires_at < :now"


@dataclass(frozen=True)
class TokenUser:
    """An active user a staff token names, and whether that token was signed out."""

    id: int
    role: str
    center_id: int | None
    password_hash: str
    counter_id: int | None
    revoked: bool


def token_user(tx: Tx, user_id: int, token_id: str | None) -> TokenUser | None:
    """The active user `user_id`, with whether token `token_id` was signed out."""
    row = tx.mapping(_USER_BY_ID, {"id": user_id, "token_id": token_id, "yes": True})
    return None if row is None else TokenUser(**{**row, "revoked": bool(row["revoked"])})


def revoke_token(
    tx: Tx, token_id: str, user_id: int | None, expires_at: datetime, now: datetime
) -> None:
    """Record a signed-out token until it expires; forget those expired by `now`."""
    tx.run(_PRUNE_REVOKED, {"now": tx.time(now)})
    params = {"token_id": token_id, "user_id": user_id, "expires": tx.time(expires_at)}
    tx.run(_REVOKE, params)
