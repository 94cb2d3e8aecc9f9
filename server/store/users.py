"""Users in the database, as the pages read them (accounts themselves use the ORM)."""

from __future__ import annotations

from taboor.server.store import Tx

_CLERKS = """
SELECT username FROM users WHERE center_id = :center_id AND role = 'clerk' ORDER BY username"""


def clerk_names(tx: Tx, center_id: int) -> list[str]:
    """The usernames of the center's clerks, in order."""
    return tx.column(_CLERKS, {"center_id": center_id})
