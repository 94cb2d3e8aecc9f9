"""The event log in the database: appending to a center's hash chain, and the reads of
the log that pages show: a ticket's line (the citizen's status page) and the hall's last
calls.

What an append makes stale (the stored statistics summaries of the event's day) is
forgotten by `server.store.stats.forget_summaries`, in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
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


# --- a ticket's line (the citizen's status page) ------------------------------------------

# Where a ticket joined its current line: its issue, or the transfer that brought it.
_JOINED_SEQ = """
SELECT max(seq) FROM events
WHERE ticket_id = :id AND type IN ('ticket.issued', 'ticket.transferred')"""
# ...and where it left it: its first call after that (none yet: the line is still open).
_CALLED_SEQ = """
SELECT min(seq) FROM events WHERE ticket_id = :id AND type = 'ticket.called' AND seq > :since"""
# Every ticket of the day that was ever in this service's line (it waits for it now, it
# was issued in it, or it was last transferred out of it) and that moved after `since`,
# with its whole history (a call is only a recall if it was called before). Tickets
# done before this one joined, or issued after it was called, are left out: on a busy
# afternoon, most of the day.
# (A ticket called here and then transferred on twice escapes; no clerk does that.)
_LINE_EVENTS = """
SELECT e.seq, e.at, e.type, e.ticket_id, e.reason, e.data, t.label, t.priority,
    s.code AS issued_in
FROM tickets t
JOIN events e ON e.ticket_id = t.id
JOIN services s ON s.id = t.issued_service_id
WHERE t.center_id = :center_id AND t.day = :day
  AND (t.service_id = :service_id OR t.issued_service_id = :service_id
       OR t.transferred_from_id = :service_id)
  AND e.type IN ('ticket.issued', 'ticket.called', 'ticket.transferred')
  AND EXISTS (SELECT 1 FROM events w WHERE w.ticket_id = t.id AND w.seq >= :since
              AND w.type IN ('ticket.issued', 'ticket.called', 'ticket.transferred'))
  AND EXISTS (SELECT 1 FROM events w WHERE w.ticket_id = t.id AND w.seq <= :until
              AND w.type IN ('ticket.issued', 'ticket.transferred'))
ORDER BY e.seq"""


@dataclass(frozen=True)
class LineRow:
    """An issue, call or transfer of a ticket, with the service it was issued in."""

    seq: int
    at: datetime
    type: str
    ticket_id: int
    reason: str | None
    data: Any  # the event's JSON text, left to the reader to parse
    label: str
    priority: str
    issued_in: str


def joined_seq(tx: Tx, ticket_id: int) -> int | None:
    """The seq of the ticket's issue or latest transfer: where it joined its line."""
    return tx.scalar(_JOINED_SEQ, {"id": ticket_id})


def called_seq(tx: Tx, ticket_id: int, since: int) -> int | None:
    """The seq of the ticket's first call after `since`, or None."""
    return tx.scalar(_CALLED_SEQ, {"id": ticket_id, "since": since})


def line_events(
    tx: Tx, center_id: int, day: date, service_id: int, since: int, until: int
) -> list[LineRow]:
    """The day's issues, calls and transfers of the tickets that were in the service's
    line and moved between `since` and `until`, in seq order."""
    params = {
        "center_id": center_id,
        "day": tx.day(day),
        "service_id": service_id,
        "since": since,
        "until": until,
    }
    events = []
    for row in tx.mappings(_LINE_EVENTS, params):
        row["at"] = tx.read_time(row["at"])
        events.append(LineRow(**row))
    return events


# --- the hall's last calls -------------------------------------------------------------

# Each ticket's latest call of the day, newest first: the whole day's way.
_CALLS_TODAY = """
SELECT t.id AS ticket_id, t.label, t.state, k.number AS counter, e.seq, e.at, e.type
FROM tickets t
JOIN counters k ON k.id = t.counter_id
JOIN events e ON e.center_id = t.center_id AND e.seq = (
    SELECT max(x.seq) FROM events x WHERE x.ticket_id = t.id AND x.type = 'ticket.called')
WHERE t.center_id = :id AND t.day = :day AND t.called_at IS NOT NULL
  AND t.state IN ('called', 'serving', 'done', 'no_show')
ORDER BY e.seq DESC
LIMIT :limit"""
# The center's latest events of the day's tickets at a counter, newest first: the
# usual way, which reads a few hundred rows (each ticket makes about four events).
_CALLS_IN_WINDOW = """
SELECT t.id AS ticket_id, t.label, t.state, k.number AS counter, e.seq, e.at, e.type
FROM (SELECT seq, at, type, ticket_id FROM events WHERE center_id = :id
      ORDER BY seq DESC LIMIT :window) e
JOIN tickets t ON t.id = e.ticket_id
JOIN counters k ON k.id = t.counter_id
WHERE t.day = :day
ORDER BY e.seq DESC"""


@dataclass(frozen=True)
class CallRow:
    """An event of a ticket at a counter: the hall shows its `ticket.called` ones."""

    ticket_id: int
    label: str
    state: str
    counter: int
    seq: int
    at: datetime
    type: str


def _calls(tx: Tx, sql: str, params: dict[str, object]) -> list[CallRow]:
    calls = []
    for row in tx.mappings(sql, params):
        row["at"] = tx.read_time(row["at"])
        calls.append(CallRow(**row))
    return calls


def calls_today(tx: Tx, center_id: int, day: date, limit: int) -> list[CallRow]:
    """The latest call of each of the day's called tickets still shown, newest first."""
    return _calls(tx, _CALLS_TODAY, {"id": center_id, "day": tx.day(day), "limit": limit})


def latest_events_at_counters(tx: Tx, center_id: int, day: date, window: int) -> list[CallRow]:
    """Among the center's latest `window` events, those of the day's tickets at a counter,
    newest first."""
    params = {"id": center_id, "day": tx.day(day), "window": window}
    return _calls(tx, _CALLS_IN_WINDOW, params)
