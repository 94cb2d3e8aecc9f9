"""The event log in the database: appending to a center's hash chain.

What an append makes stale (the stored statistics summaries of the event's day) is
forgotten by `server.store.stats.forget_summaries`, in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from taboor.server.auth import Principal
from taboor.server.domain import chain
from taboor.server.domain.times import iso
from taboor.server.models import Center
from taboor.server.store import Tx

_BUMP_SEQ = "UPDATE centers SET event_seq = event_seq + 1 WHERE id = :id RETURNING event_seq"
_PREV_HASH = "SELECT hash FROM events WHERE center_id = :center_id AND seq = :seq"
_INSERT_EVENT = """
INSERT INTO events (center_id, seq, at, type, ticket_id, actor, counter_id, reason, data,
    prev_hash, hash)
VALUES (:center_id, :seq, :at, :type, :ticket_id, :actor, :counter_id, :reason, :data,
    :prev_hash, :hash)"""


def append_event(
    tx: Tx,
    center_id: int,
    center_code: str,
    type_: str,
    *,
    actor: Principal,
    now: datetime,
    ticket_id: int | None = None,
    counter_id: int | None = None,
    reason: str | None = None,
    data: Mapping[str, object] | None = None,
) -> int:
    """Append one event to the center's chain and return its sequence number.

    Bumping `centers.event_seq` locks the center's row until commit, so appends in
    one center are serialised and each event links to the one before it. Callers
    lock ticket rows first and append last, which keeps the lock order acyclic.
    """
    seq = tx.scalar(_BUMP_SEQ, {"id": center_id})
    prev_hash = chain.GENESIS
    if seq > 1:
        # A missing predecessor (a deleted row) is left for `audit verify` to report.
        prev_hash = tx.scalar(_PREV_HASH, {"center_id": center_id, "seq": seq - 1}) or prev_hash
    record = {
        "center": center_code,
        "seq": seq,
        "at": iso(now),
        "type": type_,
        "ticket": ticket_id,
        "actor": actor.actor,
        "counter": counter_id,
        "reason": reason,
        "data": json.dumps(dict(data or {}), sort_keys=True, ensure_ascii=False),
    }
    tx.run(
        _INSERT_EVENT,
        {
            "center_id": center_id,
            "seq": seq,
            "at": tx.time(now),
            "type": type_,
            "ticket_id": ticket_id,
            "actor": record["actor"],
            "counter_id": counter_id,
            "reason": reason,
            "data": record["data"],
            "prev_hash": prev_hash,
            "hash": chain.link(prev_hash, record),
        },
    )
    return seq


def append_event_orm(session: Session, center: Center, type_: str, **kw: Any) -> int:
    """append_event inside an ORM session (catalog and accounts changes)."""
    session.flush()
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None  # a live connection inside the session's transaction
    postgres = session.get_bind().dialect.name == "postgresql"
    return append_event(Tx(dbapi.cursor(), postgres=postgres), center.id, center.code, type_, **kw)
