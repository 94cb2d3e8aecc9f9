"""Tickets in the database: numbering, insert, read by id, update, the calling order, and
the read views' figures over a center's tickets (waiting, being served, recent pace).

Rows are decoded by column name into `TicketRow`. The calling order is the domain's
(`server.domain.calling`: effective time, then id); `CALLING_ORDER` below is its SQL,
and tests/integration/test_calling_order.py proves on random queues that the two agree.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from taboor.server.domain.calling import SQL_ORDER
from taboor.server.domain.errors import NotFound
from taboor.server.domain.estimator import WINDOW
from taboor.server.domain.tickets import TicketState
from taboor.server.store import Tx

_CENTER_AND_SERVICE = """
SELECT c.id AS center_id, c.code AS center_code, c.timezone, c.options,
    s.id AS service_id, s.prefix, s.avg_service_s, s.min_service_s
FROM centers c
LEFT JOIN services s ON s.center_id = c.id AND s.code = :service AND s.active = :yes
WHERE c.code = :center"""
_NEXT_NUMBER = """
INSERT INTO daily_numbers (service_id, day, last_number) VALUES (:service_id, :day, 1)
ON CONFLICT (service_id, day) DO UPDATE SET last_number = daily_numbers.last_number + 1
RETURNING last_number"""
_INSERT_TICKET = """
INSERT INTO tickets (public_id, center_id, service_id, issued_service_id, day, number, label,
    priority, channel, lang, state, device_id, issued_at, effective_at, recall_count,
    out_of_order)
VALUES (:public_id, :center_id, :service_id, :service_id, :day, :number, :label,
    :priority, :channel, :lang, :state, :device_id, :issued_at, :effective_at, 0, :no)
RETURNING id"""
_TICKET_COLUMNS = (
    "id", "public_id", "center_id", "service_id", "day", "number", "label", "priority",
    "state", "counter_id", "issued_at", "effective_at", "called_at", "started_at",
    "finished_at", "recall_count", "out_of_order",
)  # fmt: skip
TICKET = f"""
SELECT {", ".join("t." + c for c in _TICKET_COLUMNS)},
    s.code AS service_code, s.avg_service_s, s.min_service_s, c.code AS center_code,
    k.number AS counter_number
FROM tickets t
JOIN services s ON s.id = t.service_id
JOIN centers c ON c.id = t.center_id
LEFT JOIN counters k ON k.id = t.counter_id"""
_TICKET_BY_ID = TICKET + "\nWHERE t.id = :id"
_TICKET_BY_PUBLIC_ID = TICKET + "\nWHERE t.public_id = :public_id"
_LOCK_TICKET = "SELECT id FROM tickets WHERE id = :id FOR UPDATE"
# People ahead in the ticket's service by the calling rule, and all who wait for it.
_AHEAD = f"""
SELECT sum(CASE WHEN ({SQL_ORDER}) < (:effective_at, :id) THEN 1 ELSE 0 END) AS ahead,
    count(*) AS waiting
FROM tickets
WHERE center_id = :center_id AND state = 'waiting' AND service_id = :service_id
  AND day = :day"""
# For each open counter serving the service: how many wait for any of its services.
_OPEN_COUNTER_QUEUES = """
SELECT (SELECT count(*) FROM tickets t JOIN counter_services c2 ON c2.service_id = t.service_id
        WHERE c2.counter_id = cs.counter_id AND t.center_id = k.center_id
          AND t.state = 'waiting' AND t.day = :day) AS waiting
FROM counter_services cs JOIN counters k ON k.id = cs.counter_id
WHERE cs.service_id = :service_id AND k.state = 'open'"""
# The service's latest completions of the business day (call -> done).
_RECENT_DONE = f"""
SELECT called_at, finished_at FROM tickets
WHERE service_id = :service_id AND day = :day AND state = 'done' AND called_at IS NOT NULL
ORDER BY finished_at DESC LIMIT {WINDOW}"""
# The calling rule in SQL: among today's waiting tickets of the counter's services, the
# earliest effective time, then the lower id. (Tickets left from an earlier business
# day are not called: their numbers were reused this morning.)
_WAITING_AT_COUNTER = """t.center_id = :center_id AND t.state = 'waiting' AND t.day = :day
  AND t.service_id IN (SELECT service_id FROM counter_services WHERE counter_id = :counter_id)"""
CALLING_ORDER = "ORDER BY " + ", ".join("t." + c for c in SQL_ORDER.split(", "))
_NEXT_WAITING = f"SELECT t.id FROM tickets t WHERE {_WAITING_AT_COUNTER}\n{CALLING_ORDER} LIMIT 1"
_NEXT_WAITING_LOCKED = _NEXT_WAITING + " FOR UPDATE SKIP LOCKED"
_COUNTER_QUEUE = f"""
SELECT t.id, t.label, s.code AS service, t.priority, t.issued_at
FROM tickets t JOIN services s ON s.id = t.service_id
WHERE {_WAITING_AT_COUNTER}
{CALLING_ORDER}"""
# SQLite: the claim as one conditional UPDATE (the state condition keeps it correct even
# without BEGIN IMMEDIATE, which already serialises writers).
_CLAIM_SQLITE = f"""
UPDATE tickets SET state = :state, counter_id = :counter_id, clerk_id = :clerk_id,
    called_at = :called_at
WHERE id = ({_NEXT_WAITING}) AND state = 'waiting'
RETURNING id"""
_SERVICE_IN_CENTER = (
    "SELECT id FROM services WHERE center_id = :center_id AND code = :code AND active = :yes"
)
_UPDATABLE = frozenset({
    "state", "counter_id", "clerk_id", "called_at", "started_at", "finished_at",
    "recall_count", "out_of_order", "call_reason", "service_id", "transferred_from_id",
})  # fmt: skip
# Today's waiting tickets per service, and the issue time of the oldest in each.
_WAITING_BY_SERVICE = """
SELECT service_id, count(*) AS waiting FROM tickets
WHERE center_id = :center_id AND state = 'waiting' AND day = :day GROUP BY service_id"""
_OLDEST_WAITING = """
SELECT s.code AS service, min(t.issued_at) AS oldest
FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.center_id = :center_id AND t.state = 'waiting' AND t.day = :day
GROUP BY s.code"""
# Each service's latest completions of the business day (call -> done), in one read.
_RECENT_DONE_BY_SERVICE = f"""
SELECT service_id, called_at, finished_at FROM (
  SELECT service_id, called_at, finished_at,
    row_number() OVER (PARTITION BY service_id ORDER BY finished_at DESC) AS newest
  FROM tickets
  WHERE center_id = :center_id AND day = :day AND state = 'done' AND called_at IS NOT NULL
) recent WHERE newest <= {WINDOW}"""
# The tickets being called or served: for the live pages, and with the clerk for managers.
_NOW_SERVING = """
SELECT t.id AS ticket_id, t.label, t.state, t.called_at, t.recall_count, k.id AS counter_id,
    k.number AS counter, s.code AS service
FROM tickets t JOIN counters k ON k.id = t.counter_id JOIN services s ON s.id = t.service_id
WHERE t.center_id = :center_id AND t.state IN ('called', 'serving')
ORDER BY t.called_at DESC"""
_AT_DESKS = """
SELECT k.number AS counter, t.label, t.state, s.code AS service, u.username AS clerk,
    t.called_at
FROM tickets t
JOIN counters k ON k.id = t.counter_id
JOIN services s ON s.id = t.service_id
LEFT JOIN users u ON u.id = t.clerk_id
WHERE t.center_id = :center_id AND t.state IN ('called', 'serving')"""
# One row at most: (center_id, day, label) is unique, and its index finds it.
_CALLED_TO_COUNTER = """
SELECT count(*) FROM tickets t JOIN counters k ON k.id = t.counter_id
WHERE t.center_id = :center_id AND t.day = :day AND t.label = :label
  AND t.called_at IS NOT NULL AND k.number = :counter"""


@dataclass(frozen=True)
class TicketRow:
    """A ticket with the codes and numbers its public view needs."""

    id: int
    public_id: str
    center_id: int
    service_id: int
    day: date
    number: int
    label: str
    priority: str
    state: str
    counter_id: int | None
    issued_at: datetime
    effective_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recall_count: int
    out_of_order: bool
    service_code: str
    avg_service_s: int
    min_service_s: int
    center_code: str
    counter_number: int | None


_TIMES = ("issued_at", "effective_at", "called_at", "started_at", "finished_at")


def ticket_row(tx: Tx, row: Mapping[str, Any]) -> TicketRow:
    """Decode a row of `TICKET` by column name."""
    values = dict(row)
    values["day"] = tx.read_day(values["day"])
    for name in _TIMES:
        values[name] = tx.read_time(values[name])
    values["out_of_order"] = bool(values["out_of_order"])
    return TicketRow(**values)


def find_ticket(tx: Tx, ticket_id: int, *, lock: bool = False) -> TicketRow:
    """The ticket with its service, center and counter; row-locked on PostgreSQL."""
    if lock and tx.postgres:
        tx.run(_LOCK_TICKET, {"id": ticket_id})
    row = tx.mapping(_TICKET_BY_ID, {"id": ticket_id})
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
    return ticket_row(tx, row)


def ticket_by_public_id(tx: Tx, public_id: str) -> TicketRow | None:
    """The ticket with this public id (the QR code), or None."""
    row = tx.mapping(_TICKET_BY_PUBLIC_ID, {"public_id": public_id})
    return None if row is None else ticket_row(tx, row)


@dataclass(frozen=True)
class IssueTarget:
    """The center and service a new ticket is issued in (service_id None: not offered)."""

    center_id: int
    center_code: str
    timezone: str
    options: dict[str, Any]  # the center's options (JSON)
    service_id: int | None
    prefix: str | None
    avg_service_s: int | None
    min_service_s: int | None


def issue_target(tx: Tx, center: str, service: str) -> IssueTarget | None:
    """The center by code with its active service by code; None when no such center."""
    row = tx.mapping(_CENTER_AND_SERVICE, {"center": center, "service": service, "yes": True})
    if row is None:
        return None
    options = row["options"]
    row["options"] = json.loads(options) if isinstance(options, str) else options or {}
    return IssueTarget(**row)


def next_number(tx: Tx, service_id: int, day: date) -> int:
    """Bump and return the service's number of the day (gapless: same transaction)."""
    return tx.scalar(_NEXT_NUMBER, {"service_id": service_id, "day": tx.day(day)})


def insert_ticket(tx: Tx, *, day: date, **values: object) -> int:
    """Insert a waiting ticket; times as aware datetimes; returns its id."""
    params = {k: tx.time(v) if isinstance(v, datetime) else v for k, v in values.items()}
    params["day"] = tx.day(day)
    return tx.scalar(_INSERT_TICKET, {**params, "state": TicketState.WAITING.value, "no": False})


@functools.cache
def _update_sql(columns: tuple[str, ...]) -> str:
    assert _UPDATABLE.issuperset(columns), columns
    return f"UPDATE tickets SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :id"


def update_ticket(tx: Tx, ticket_id: int, changes: Mapping[str, object]) -> None:
    """Set the given columns of one ticket (times as aware datetimes)."""
    values = {k: tx.time(v) if isinstance(v, datetime) else v for k, v in changes.items()}
    tx.run(_update_sql(tuple(sorted(values))), {**values, "id": ticket_id})


def next_waiting(tx: Tx, center_id: int, counter_id: int, day: date) -> int | None:
    """The id of the ticket the calling rule gives this counter next, or None."""
    params = {"center_id": center_id, "counter_id": counter_id, "day": tx.day(day)}
    return tx.scalar(_NEXT_WAITING, params)


def claim_next(
    tx: Tx, center_id: int, counter_id: int, day: date, called: Mapping[str, object]
) -> int | None:
    """Atomically take the next waiting ticket (the calling rule) and set `called` on it.

    `called` is what the state machine's call sets (state, counter_id, clerk_id,
    called_at). PostgreSQL: concurrent clerks skip each other's locked rows instead of
    queueing behind them. SQLite: one conditional UPDATE.
    """
    params = {"center_id": center_id, "counter_id": counter_id, "day": tx.day(day)}
    if tx.postgres:
        ticket_id = tx.scalar(_NEXT_WAITING_LOCKED, params)
        if ticket_id is not None:
            update_ticket(tx, ticket_id, called)
        return ticket_id
    values = {k: tx.time(v) if isinstance(v, datetime) else v for k, v in called.items()}
    return tx.scalar(_CLAIM_SQLITE, {**params, **values})


@dataclass(frozen=True)
class QueuedTicket:
    """A waiting ticket as a counter's queue lists it."""

    id: int
    label: str
    service: str
    priority: str
    issued_at: datetime


def counter_queue(tx: Tx, center_id: int, counter_id: int, day: date) -> list[QueuedTicket]:
    """Every waiting ticket of the counter's services today, in calling order."""
    params = {"center_id": center_id, "counter_id": counter_id, "day": tx.day(day)}
    queue = []
    for row in tx.mappings(_COUNTER_QUEUE, params):
        row["issued_at"] = tx.read_time(row["issued_at"])
        queue.append(QueuedTicket(**row))
    return queue


def service_in_center(tx: Tx, center_id: int, code: str) -> int | None:
    """The id of the center's active service `code`, or None."""
    return tx.scalar(_SERVICE_IN_CENTER, {"center_id": center_id, "code": code, "yes": True})


@dataclass(frozen=True)
class Queueing:
    """What the wait estimate of one waiting ticket reads."""

    ahead: int  # waiting before it in its service, by the calling rule
    waiting: int  # waiting in its service
    counter_queues: list[int]  # per open counter serving the service: all waiting there
    recent_s: list[float]  # the service's latest call -> done times today, oldest first


def queueing(tx: Tx, ticket: TicketRow) -> Queueing:
    """The people ahead of a waiting ticket, its service's queues and recent pace."""
    day = tx.day(ticket.day)
    counts = tx.mapping(
        _AHEAD,
        {
            "center_id": ticket.center_id,
            "service_id": ticket.service_id,
            "effective_at": tx.time(ticket.effective_at),
            "id": ticket.id,
            "day": day,
        },
    )
    assert counts is not None  # an aggregate always has its row
    queues = tx.column(_OPEN_COUNTER_QUEUES, {"service_id": ticket.service_id, "day": day})
    recent = tx.mappings(_RECENT_DONE, {"service_id": ticket.service_id, "day": day})
    return Queueing(
        counts["ahead"] or 0, counts["waiting"], queues, _service_s([_done(tx, r) for r in recent])
    )


@dataclass(frozen=True)
class _Done:
    """A completion: when the ticket was called and when it was done."""

    called_at: datetime
    finished_at: datetime


def _done(tx: Tx, row: Mapping[str, Any]) -> _Done:
    called, finished = tx.read_time(row["called_at"]), tx.read_time(row["finished_at"])
    assert called is not None and finished is not None  # the queries ask for both
    return _Done(called, finished)


def _service_s(newest_first: Sequence[_Done]) -> list[float]:
    """Call -> done seconds of completions newest first, oldest first."""
    return [(d.finished_at - d.called_at).total_seconds() for d in reversed(newest_first)]


def waiting_by_service(tx: Tx, center_id: int, day: date) -> dict[int, int]:
    """How many of the day's tickets wait, per service id (earlier days' are not in line)."""
    rows = tx.mappings(_WAITING_BY_SERVICE, {"center_id": center_id, "day": tx.day(day)})
    return {row["service_id"]: row["waiting"] for row in rows}


def oldest_waiting(tx: Tx, center_id: int, day: date) -> dict[str, datetime]:
    """Per service code, the issue time of the day's oldest waiting ticket."""
    rows = tx.mappings(_OLDEST_WAITING, {"center_id": center_id, "day": tx.day(day)})
    oldest = {}
    for row in rows:
        at = tx.read_time(row["oldest"])
        assert at is not None  # a group has at least one ticket
        oldest[row["service"]] = at
    return oldest


def recent_service_times(tx: Tx, center_id: int, day: date) -> dict[int, list[float]]:
    """Per service id, its latest call -> done seconds of the day, oldest first."""
    recent: dict[int, list[_Done]] = defaultdict(list)
    for row in tx.mappings(_RECENT_DONE_BY_SERVICE, {"center_id": center_id, "day": tx.day(day)}):
        recent[row["service_id"]].append(_done(tx, row))
    times = {}
    for service_id, done in recent.items():
        done.sort(key=lambda d: d.finished_at, reverse=True)
        times[service_id] = _service_s(done)
    return times


@dataclass(frozen=True)
class NowServing:
    """A ticket being called or served, with its counter and service."""

    ticket_id: int
    label: str
    state: str
    called_at: datetime | None
    recall_count: int
    counter_id: int
    counter: int
    service: str


def now_serving(tx: Tx, center_id: int) -> list[NowServing]:
    """The center's tickets being called or served, the latest call first."""
    serving = []
    for row in tx.mappings(_NOW_SERVING, {"center_id": center_id}):
        row["called_at"] = tx.read_time(row["called_at"])
        serving.append(NowServing(**row))
    return serving


@dataclass(frozen=True)
class AtDesk:
    """A ticket being called or served, with its counter's number and its clerk."""

    counter: int
    label: str
    state: str
    service: str
    clerk: str | None
    called_at: datetime | None


def at_desks(tx: Tx, center_id: int) -> list[AtDesk]:
    """The center's tickets being called or served, with who calls or serves them."""
    desks = []
    for row in tx.mappings(_AT_DESKS, {"center_id": center_id}):
        row["called_at"] = tx.read_time(row["called_at"])
        desks.append(AtDesk(**row))
    return desks


def called_to_counter(tx: Tx, center_id: int, day: date, label: str, counter: int) -> bool:
    """Whether the day's ticket `label` was called to the counter with this number."""
    params = {"center_id": center_id, "day": tx.day(day), "label": label, "counter": counter}
    return bool(tx.scalar(_CALLED_TO_COUNTER, params))
