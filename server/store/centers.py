"""Centers in the database: the code of one by id, and one as an ORM object."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from taboor.server.domain.errors import NotFound
from taboor.server.models import Center
from taboor.server.store import Tx

_CODE_BY_ID = "SELECT code FROM centers WHERE id = :id"


def center_code(tx: Tx, center_id: int) -> str:
    return tx.scalar(_CODE_BY_ID, {"id": center_id})


def get_center(session: Session, code: str) -> Center:
    """The center as an ORM object (catalog, accounts, read views)."""
    center = session.scalar(select(Center).where(Center.code == code))
    if center is None:
        raise NotFound(f"no center {code!r}", code="center_not_found")
    return center
