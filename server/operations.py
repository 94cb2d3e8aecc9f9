"""Use cases. Each one is a single transaction that also appends its events to the
center's hash chain; it returns what the shell should answer and publish (after the
commit, never before).

The ticket use cases are the hot path, so they speak plain SQL through
`server.store.Tx` (see there why); everything else uses the ORM.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from taboor.server.auth import Principal, Role, require_center, require_counter, require_role
from taboor.server.db import Database
from taboor.server.domain import chain
from taboor.server.domain.calling import effective_time
from taboor.server.domain.errors import Conflict, InvalidInput, NotFound
from taboor.server.domain.estimator import WINDOW, Estimate, counter_share, estimate_wait
from taboor.server.domain.numbering import business_day, label
from taboor.server.domain.tickets import Action, Channel, Priority, TicketState, transition
from taboor.server.models import Center
from taboor.server.store import Tx

STAFF_AT_COUNTER = (Role.CLERK, Role.MANAGER, Role.ADMIN)
ISSUERS = ("kiosk", Role.CLERK, Role.MANAGER, Role.ADMIN)
ACTIVE = (TicketState.CALLED, TicketState.SERVING)


class CounterState:
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    ALL = (OPEN, PAUSED, CLOSED)


@dataclass(frozen=True)
class Published:
    """A live event for the center's room: wire name and payload (with center, seq)."""

    name: str
    payload: dict[str, object]


@dataclass
class Outcome:
    body: dict[str, object] | None
    events: list[Published] = field(default_factory=list)
    print_jobs: list[int] = field(default_factory=list)


# --- SQL -----------------------------------------------------------------------------

_CENTER_AND_SERVICE = """
SELECT c.id, c.code, c.timezone, c.options, s.id, s.prefix, s.avg_service_s, s.min_service_s
FROM centers c
LEFT JOIN services s ON s.center_id = c.id AND s.code = :service AND s.active = :yes
WHERE c.code = :center"""
_CENTER_BY_ID = "SELECT id, code FROM centers WHERE id = :id"
_NEXT_NUMBER = """
INSERT INTO daily_numbers (service_id, day, last_number) VALUES (:service_id, :day, 1)
ON CONFLICT (service_id, day) DO UPDATE SET last_number = daily_numbers.last_number + 1
RETURNING last_number"""
_INSERT_TICKET = """
INSERT INTO tickets (public_id, center_id, service_id, issued_service_id, day, number, label,
    priority, channel, lang, state, device_id, issued_at, effective_at, recall_count,
    out_of_order)
VALUES (:public_id, :center_id, :service_id, :service_id, :day, :number, :label,
    :priority, :channel, :lang, 'waiting', :device_id, :issued_at, :effective_at, 0, :no)
RETURNING id"""
_TICKET_COLUMNS = (
    "id", "public_id", "center_id", "service_id", "day", "number", "label", "priority",
    "state", "counter_id", "issued_at", "effective_at", "called_at", "started_at",
    "finished_at", "recall_count", "out_of_order",
)  # fmt: skip
_TICKET = f"""
SELECT {", ".join("t." + c for c in _TICKET_COLUMNS)},
    s.code, s.avg_service_s, s.min_service_s, c.code, k.number
FROM tickets t
JOIN services s ON s.id = t.service_id
JOIN centers c ON c.id = t.center_id
LEFT JOIN counters k ON k.id = t.counter_id
WHERE t.id = :id"""
_LOCK_TICKET = "SELECT id FROM tickets WHERE id = :id FOR UPDATE"
# People ahead in the ticket's service by the calling rule, and all who wait for it.
_AHEAD = """
SELECT sum(CASE WHEN (effective_at, id) < (:effective_at, :id) THEN 1 ELSE 0 END), count(*)
FROM tickets
WHERE center_id = :center_id AND state = 'waiting' AND service_id = :service_id
  AND day = :day"""
# For each open counter serving the service: how many wait for any of its services.
_OPEN_COUNTER_QUEUES = """
SELECT (SELECT count(*) FROM tickets t JOIN counter_services c2 ON c2.service_id = t.service_id
        WHERE c2.counter_id = cs.counter_id AND t.center_id = k.center_id
          AND t.state = 'waiting' AND t.day = :day)
FROM counter_services cs JOIN counters k ON k.id = cs.counter_id
WHERE cs.service_id = :service_id AND k.state = 'open'"""
# The service's latest completions of the business day (call -> done).
_RECENT_DONE = f"""
SELECT called_at, finished_at FROM tickets
WHERE service_id = :service_id AND day = :day AND state = 'done' AND called_at IS NOT NULL
ORDER BY finished_at DESC LIMIT {WINDOW}"""
_COUNTER = """
SELECT k.id, k.center_id, k.number, k.state, c.timezone
FROM counters k JOIN centers c ON c.id = k.center_id WHERE k.id = :id"""
_LOCK_COUNTER = "SELECT id FROM counters WHERE id = :id FOR UPDATE"
_COUNTER_SERVICE_IDS = (
    "SELECT service_id FROM counter_services WHERE counter_id = :id ORDER BY position"
)
_COUNTER_SERVICE_CODES = """
SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id
WHERE cs.counter_id = :id ORDER BY cs.position"""
_COUNTER_CURRENT = """
SELECT id, label FROM tickets
WHERE counter_id = :id AND state IN ('called', 'serving') LIMIT 1"""
# The calling rule in SQL: among today's waiting tickets of the counter's services, the
# earliest effective time, then the lower id. (Tickets left from an earlier business
# day are not called: their numbers were reused this morning.)
_NEXT_WAITING = """
SELECT id FROM tickets
WHERE center_id = :center_id AND state = 'waiting' AND day = :day
  AND service_id IN (SELECT service_id FROM counter_services WHERE counter_id = :counter_id)
ORDER BY effective_at, id LIMIT 1"""
_CLAIM_SQLITE = f"""
UPDATE tickets SET state = 'called', counter_id = :counter_id, clerk_id = :clerk_id,
    called_at = :now
WHERE id = ({_NEXT_WAITING}) AND state = 'waiting'
RETURNING id"""
_BUMP_SEQ = "UPDATE centers SET event_seq = event_seq + 1 WHERE id = :id RETURNING event_seq"
_PREV_HASH = "SELECT hash FROM events WHERE center_id = :center_id AND seq = :seq"
_INSERT_EVENT = """
INSERT INTO events (center_id, seq, at, type, ticket_id, actor, counter_id, reason, data,
    prev_hash, hash)
VALUES (:center_id, :seq, :at, :type, :ticket_id, :actor, :counter_id, :reason, :data,
    :prev_hash, :hash)"""
# Stored statistics summaries (server/reports.py) of a day stop being true when one of
# its tickets changes, or its counters' time does: the day's and its month's (for every
# filter) are forgotten in the transaction that appends the event, after it: appending
# holds the center's row, which orders this before or after any summary being written,
# never across it. On the usual day there is nothing to forget, and one probe of an
# index (center, first day) says so; groups exist only beside their period's row.
_SUMMARY_DAYS = (
    "first_day BETWEEN :month AND :day AND (first_day = :day OR span = 'month')",
    "first_day >= :month AND (first_day >= :day OR span = 'month')",  # and onwards
)
_SUMMARISED = [
    f"SELECT 1 FROM stats_periods WHERE center_id = :center_id AND {days} LIMIT 1"
    for days in _SUMMARY_DAYS
]
_FORGET_SUMMARIES = [
    [f"DELETE FROM {table} WHERE center_id = :center_id AND {days}"
     for table in ("stats_groups", "stats_periods")]
    for days in _SUMMARY_DAYS
]  # fmt: skip
_UPDATABLE = frozenset({
    "state", "counter_id", "clerk_id", "called_at", "started_at", "finished_at",
    "recall_count", "out_of_order", "call_reason", "service_id", "transferred_from_id",
})  # fmt: skip


@functools.cache
def _update_sql(columns: tuple[str, ...]) -> str:
    assert _UPDATABLE.issuperset(columns), columns
    return f"UPDATE tickets SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :id"


def _update_ticket(tx: Tx, ticket_id: int, changes: Mapping[str, object]) -> None:
    values = {k: tx.time(v) if isinstance(v, datetime) else v for k, v in changes.items()}
    tx.run(_update_sql(tuple(sorted(values))), {**values, "id": ticket_id})


# --- rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    """A ticket with the codes and numbers its public view needs."""

    id: int
    public_id: str
    center_id: int
    service_id: int
    day: Any
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


def find_ticket(tx: Tx, ticket_id: int, *, lock: bool = False) -> TicketRow:
    """The ticket with its service, center and counter; row-locked on PostgreSQL."""
    if lock and tx.postgres:
        tx.run(_LOCK_TICKET, {"id": ticket_id})
    row = tx.one(_TICKET, {"id": ticket_id})
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
    values = list(row)
    values[4] = tx.read_day(values[4])
    for i in range(10, 15):
        values[i] = tx.read_time(values[i])
    values[16] = bool(values[16])
    return TicketRow(*values)


class CounterRow(NamedTuple):
    id: int
    center_id: int
    number: int
    state: str
    timezone: str = "Asia/Damascus"


def find_counter(tx: Tx, counter_id: int, *, lock: bool = False) -> CounterRow:
    if lock and tx.postgres:
        tx.run(_LOCK_COUNTER, {"id": counter_id})
    counter = tx.one(_COUNTER, {"id": counter_id})
    if counter is None:
        raise NotFound(f"no counter {counter_id}", code="counter_not_found")
    return CounterRow(*counter)


def get_center(session: Session, code: str) -> Center:
    """The center as an ORM object (catalog, accounts, read views)."""
    center = session.scalar(select(Center).where(Center.code == code))
    if center is None:
        raise NotFound(f"no center {code!r}", code="center_not_found")
    return center


# --- views ---------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def recent_handling(rows: Sequence[tuple], tx: Tx) -> list[float]:
    """Call -> done seconds from (called_at, finished_at) rows newest first, oldest first."""
    spans = []
    for called, finished in reversed(rows):
        spans.append((tx.read_time(finished) - tx.read_time(called)).total_seconds())
    return spans


def ticket_view(tx: Tx, ticket: TicketRow) -> dict[str, object]:
    """A ticket as the public contract describes it."""
    ahead: int | None = None
    estimate: Estimate | None = None
    if ticket.state == TicketState.WAITING:
        ahead, waiting = tx.one(
            _AHEAD,
            {
                "center_id": ticket.center_id,
                "service_id": ticket.service_id,
                "effective_at": tx.time(ticket.effective_at),
                "id": ticket.id,
                "day": tx.day(ticket.day),
            },
        )  # type: ignore[misc]
        queues = tx.all(
            _OPEN_COUNTER_QUEUES, {"service_id": ticket.service_id, "day": tx.day(ticket.day)}
        )
        estimate = estimate_wait(
            ahead,
            [counter_share(waiting, at_counter) for (at_counter,) in queues],
            recent_handling(
                tx.all(_RECENT_DONE, {"service_id": ticket.service_id, "day": tx.day(ticket.day)}),
                tx,
            ),
            ticket.avg_service_s,
            min_plausible_s=ticket.min_service_s,
        )
    return {
        "id": ticket.id,
        "public_id": ticket.public_id,
        "label": ticket.label,
        "number": ticket.number,
        "service": ticket.service_code,
        "center": ticket.center_code,
        "state": ticket.state,
        "priority": ticket.priority,
        "position": None if ahead is None else ahead + 1,
        "ahead": ahead,
        "estimated_wait_s": None if estimate is None else estimate.wait_s,
        "estimate": None if estimate is None else estimate.to_dict(),
        "counter": ticket.counter_number,
        "counter_id": ticket.counter_id,
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "recall_count": ticket.recall_count,
        "out_of_order": ticket.out_of_order,
        "business_day": ticket.day.isoformat(),
    }


def counter_view(tx: Tx, counter: CounterRow) -> dict[str, object]:
    """A counter with its services and current ticket."""
    current = tx.one(_COUNTER_CURRENT, {"id": counter.id})
    return {
        "id": counter.id,
        "number": counter.number,
        "state": counter.state,
        "services": [code for (code,) in tx.all(_COUNTER_SERVICE_CODES, {"id": counter.id})],
        "ticket": None if current is None else current[1],
        "ticket_id": None if current is None else current[0],
    }


# --- the event chain -----------------------------------------------------------------


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


def forget_summaries(tx: Tx, center_id: int, day: date, *, onwards: bool = False) -> None:
    """Drop the stored statistics of a business day and its month (and later, `onwards`)."""
    params = {"center_id": center_id, "day": tx.day(day), "month": tx.day(day.replace(day=1))}
    if tx.one(_SUMMARISED[onwards], params) is not None:
        for sql in _FORGET_SUMMARIES[onwards]:
            tx.run(sql, params)


def append_event_orm(session: Session, center: Center, type_: str, **kw: Any) -> int:
    """append_event inside an ORM session (catalog and accounts changes)."""
    session.flush()
    dbapi = session.connection().connection.driver_connection
    postgres = session.get_bind().dialect.name == "postgresql"
    return append_event(Tx(dbapi.cursor(), postgres=postgres), center.id, center.code, type_, **kw)


def _ticket_outcome(
    tx: Tx,
    name: str,
    ticket: int | TicketRow,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
    counter_id: int | None = None,
    data: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Outcome:
    """Append the event for a ticket change; build the answer and the live event."""
    if not isinstance(ticket, TicketRow):
        ticket = find_ticket(tx, ticket)
    seq = append_event(
        tx,
        ticket.center_id,
        ticket.center_code,
        name,
        actor=actor,
        now=now,
        ticket_id=ticket.id,
        counter_id=ticket.counter_id if counter_id is None else counter_id,
        reason=reason,
        data={"label": ticket.label, "state": ticket.state, **(data or {})},
    )
    forget_summaries(tx, ticket.center_id, ticket.day)
    view = ticket_view(tx, ticket)
    payload = {"center": ticket.center_code, "seq": seq, "ticket": view, **(extra or {})}
    return Outcome(view, [Published(name, payload)])


# --- printing ------------------------------------------------------------------------

QUEUED = "queued"
_INSERT_PRINT_JOB = """
INSERT INTO print_jobs (ticket_id, device_id, printer, base_url, state, attempts,
    created_at, updated_at)
VALUES (:ticket_id, :device_id, :printer, :base_url, 'queued', 0, :now, :now)
RETURNING id"""
_DEVICE_PRINTER = "SELECT printer FROM devices WHERE id = :id"


def printer_for(tx: Tx, actor: Principal, default: str | None) -> str | None:
    """Where a kiosk's tickets print (its own printer, else the default); None for staff."""
    if default is None or actor.kind != "device" or actor.role != "kiosk":
        return None
    spec = tx.scalar(_DEVICE_PRINTER, {"id": actor.id}) or default
    return None if spec.strip().lower() == "none" else spec


def queue_print(
    tx: Tx, ticket_id: int, device_id: int | None, printer: str, base_url: str, now: datetime
) -> int:
    """Record a job to print, in the caller's transaction: committed with the ticket."""
    return tx.scalar(
        _INSERT_PRINT_JOB,
        {
            "ticket_id": ticket_id,
            "device_id": device_id,
            "printer": printer,
            "base_url": base_url,
            "now": tx.time(now),
        },
    )


# --- use cases -----------------------------------------------------------------------


def issue(
    db: Database,
    center_code: str,
    service_code: str,
    *,
    actor: Principal,
    now: datetime,
    head_starts_s: Mapping[str, int],
    priority: str = Priority.NORMAL,
    lang: str = "ar",
    channel: str | None = None,
    printer: str | None = None,
    base_url: str = "",
) -> Outcome:
    """Issue the next numbered ticket of a service.

    A kiosk's ticket is also queued for printing on `printer` (unless the kiosk has a
    printer of its own, or the printer is "none"), in the same transaction.
    """
    require_role(actor, *ISSUERS)
    try:
        priority = Priority(priority)
    except ValueError:
        raise InvalidInput(
            f"priority must be one of {', '.join(Priority)}", field="priority"
        ) from None
    if lang not in ("ar", "en"):
        raise InvalidInput("lang must be 'ar' or 'en'", field="lang")
    channel = channel or (Channel.KIOSK if actor.kind == "device" else Channel.RECEPTION)

    def work(tx: Tx) -> Outcome:
        found = tx.one(
            _CENTER_AND_SERVICE, {"center": center_code, "service": service_code, "yes": True}
        )
        if found is None:
            raise NotFound(f"no center {center_code!r}", code="center_not_found")
        center_id, _, timezone, options, service_id, prefix, avg_s, min_s = found
        require_center(actor, center_id)
        if service_id is None:
            raise NotFound(
                f"no service {service_code!r} in {center_code}", code="service_not_found"
            )
        options = json.loads(options) if isinstance(options, str) else options or {}
        allowed = options.get("priorities")
        if allowed is not None and priority != Priority.NORMAL and priority not in allowed:
            raise InvalidInput(
                f"{center_code} does not offer priority {priority}", field="priority"
            )
        # At a kiosk a citizen chooses only the classes the center offers there; an
        # appointment is never self-declared.
        if (
            actor.kind == "device"
            and priority != Priority.NORMAL
            and (
                priority == Priority.APPOINTMENT
                or priority not in options.get("kiosk_priorities", ())
            )
        ):
            raise InvalidInput(
                f"priority {priority} is not offered at this kiosk",
                field="priority",
                code="priority_not_offered",
            )
        day = business_day(now, timezone)
        number = tx.scalar(_NEXT_NUMBER, {"service_id": service_id, "day": tx.day(day)})
        public_id = secrets.token_urlsafe(12)
        effective_at = effective_time(now, priority, head_starts_s)
        ticket_label = label(prefix, number)
        ticket_id = tx.scalar(
            _INSERT_TICKET,
            {
                "public_id": public_id,
                "center_id": center_id,
                "service_id": service_id,
                "day": tx.day(day),
                "number": number,
                "label": ticket_label,
                "priority": priority.value,
                "channel": str(channel),
                "lang": lang,
                "device_id": actor.id if actor.kind == "device" else None,
                "issued_at": tx.time(now),
                "effective_at": tx.time(effective_at),
                "no": False,
            },
        )
        # Everything the view needs is known: no need to read the row back.
        ticket = TicketRow(
            ticket_id, public_id, center_id, service_id, day, number, ticket_label,
            priority.value, TicketState.WAITING.value, None, now, effective_at, None, None,
            None, 0, False, service_code, avg_s, min_s, center_code, None,
        )  # fmt: skip
        outcome = _ticket_outcome(
            tx,
            "ticket.issued",
            ticket,
            actor=actor,
            now=now,
            data={"service": service_code, "priority": priority.value, "channel": str(channel)},
        )
        spec = printer_for(tx, actor, printer)
        if spec is not None:
            job = queue_print(tx, ticket_id, actor.id, spec, base_url, now)
            outcome.print_jobs.append(job)
            outcome.body = {**(outcome.body or {}), "print": {"job": job, "state": QUEUED}}
        return outcome

    return db.atomic(work)


def _require_free(tx: Tx, counter: CounterRow) -> None:
    busy = tx.one(_COUNTER_CURRENT, {"id": counter.id})
    if busy is not None:
        raise Conflict(
            f"counter {counter.number} still has {busy[1]}; finish it first",
            code="counter_busy",
            ticket=busy[1],
        )


def _counter_for_call(tx: Tx, counter_id: int, actor: Principal) -> CounterRow:
    """The counter if the actor may call there now."""
    require_role(actor, *STAFF_AT_COUNTER)
    counter = find_counter(tx, counter_id, lock=True)
    require_center(actor, counter.center_id)
    require_counter(actor, counter.id)
    if counter.state != CounterState.OPEN:
        raise Conflict(
            f"counter {counter.number} is {counter.state}; open it first",
            code="counter_not_open",
            state=counter.state,
        )
    _require_free(tx, counter)
    return counter


def _called(counter_id: int, actor: Principal, now: datetime) -> dict[str, object]:
    """The columns a call sets on a waiting ticket."""
    return {
        "state": transition(TicketState.WAITING, Action.CALL).value,
        "counter_id": counter_id,
        "clerk_id": actor.id if actor.kind == "user" else None,
        "called_at": now,
    }


def _claim_next(tx: Tx, counter: CounterRow, actor: Principal, now: datetime) -> int | None:
    """Atomically take the next waiting ticket (the calling rule) and mark it called."""
    day = tx.day(business_day(now, counter.timezone))
    params = {"center_id": counter.center_id, "counter_id": counter.id, "day": day}
    if tx.postgres:
        # Concurrent clerks skip each other's locked rows instead of queueing behind them.
        ticket_id = tx.scalar(_NEXT_WAITING + " FOR UPDATE SKIP LOCKED", params)
        if ticket_id is not None:
            _update_ticket(tx, ticket_id, _called(counter.id, actor, now))
        return ticket_id
    # SQLite: one conditional UPDATE. BEGIN IMMEDIATE already serialises writers; the
    # state condition would keep the claim correct even without it.
    clerk_id = actor.id if actor.kind == "user" else None
    return tx.scalar(_CLAIM_SQLITE, {**params, "clerk_id": clerk_id, "now": tx.time(now)})


def call_next(db: Database, counter_id: int, *, actor: Principal, now: datetime) -> Outcome:
    """Call the next ticket for a counter by the calling rule; body None when nobody waits."""

    def work(tx: Tx) -> Outcome:
        counter = _counter_for_call(tx, counter_id, actor)
        ticket_id = _claim_next(tx, counter, actor, now)
        if ticket_id is None:
            return Outcome(None)
        return _ticket_outcome(
            tx, "ticket.called", ticket_id, actor=actor, now=now, extra={"recall": False}
        )

    return db.atomic(work)


def call_ticket(
    db: Database, counter_id: int, ticket_id: int, *, reason: str, actor: Principal, now: datetime
) -> Outcome:
    """Call one waiting ticket by id; out of order unless it is the rule's next anyway."""
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required to call a specific ticket", field="reason", code="missing_field"
        )
    reason = reason.strip()

    def work(tx: Tx) -> Outcome:
        counter = _counter_for_call(tx, counter_id, actor)
        ticket = find_ticket(tx, ticket_id, lock=True)
        if ticket.center_id != counter.center_id:
            raise NotFound(f"no ticket {ticket_id} in this center", code="ticket_not_found")
        served = [sid for (sid,) in tx.all(_COUNTER_SERVICE_IDS, {"id": counter.id})]
        if ticket.service_id not in served:
            raise Conflict(
                f"counter {counter.number} does not serve this ticket's service",
                code="service_not_served",
            )
        transition(ticket.state, Action.CALL)
        next_id = tx.scalar(
            _NEXT_WAITING,
            {
                "center_id": counter.center_id,
                "counter_id": counter.id,
                "day": tx.day(business_day(now, counter.timezone)),
            },
        )
        out_of_order = next_id != ticket.id
        _update_ticket(
            tx,
            ticket.id,
            {
                **_called(counter.id, actor, now),
                "out_of_order": out_of_order,
                "call_reason": reason,
            },
        )
        return _ticket_outcome(
            tx,
            "ticket.called",
            ticket.id,
            actor=actor,
            now=now,
            reason=reason,
            data={"out_of_order": out_of_order},
            extra={"recall": False},
        )

    return db.atomic(work)


_ACTION_EVENTS: dict[Action, str] = {
    Action.RECALL: "ticket.called",
    Action.START: "ticket.started",
    Action.FINISH: "ticket.done",
    Action.NO_SHOW: "ticket.no_show",
    Action.CANCEL: "ticket.cancelled",
}


def act(
    db: Database,
    ticket_id: int,
    action: Action,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """Recall, start, finish, mark no-show or cancel a ticket."""
    require_role(actor, *STAFF_AT_COUNTER)
    if action not in _ACTION_EVENTS:
        raise ValueError(f"act() does not handle {action}")

    def work(tx: Tx) -> Outcome:
        ticket = find_ticket(tx, ticket_id, lock=True)
        require_center(actor, ticket.center_id)
        if ticket.counter_id is not None:
            require_counter(actor, ticket.counter_id)
        changes: dict[str, object] = {"state": transition(ticket.state, action).value}
        if action is Action.RECALL:
            changes["recall_count"] = ticket.recall_count + 1
        elif action is Action.START:
            changes["started_at"] = now
        else:
            changes["finished_at"] = now
        _update_ticket(tx, ticket.id, changes)
        return _ticket_outcome(
            tx,
            _ACTION_EVENTS[action],
            ticket.id,
            actor=actor,
            now=now,
            reason=reason,
            extra={"recall": True} if action is Action.RECALL else None,
        )

    return db.atomic(work)


_SERVICE_IN_CENTER = "SELECT id FROM services WHERE center_id = :center_id AND code = :code " \
    "AND active = :yes"  # fmt: skip


def transfer(
    db: Database,
    ticket_id: int,
    service_code: str,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """Send a called or serving ticket to another service, keeping its place in line."""
    require_role(actor, *STAFF_AT_COUNTER)

    def work(tx: Tx) -> Outcome:
        ticket = find_ticket(tx, ticket_id, lock=True)
        require_center(actor, ticket.center_id)
        if ticket.counter_id is not None:
            require_counter(actor, ticket.counter_id)
        target = tx.scalar(
            _SERVICE_IN_CENTER, {"center_id": ticket.center_id, "code": service_code, "yes": True}
        )
        if target is None:
            raise NotFound(
                f"no service {service_code!r} in {ticket.center_code}", code="service_not_found"
            )
        if target == ticket.service_id:
            raise Conflict("the ticket is already in this service", code="same_service")
        state = transition(ticket.state, Action.TRANSFER)
        # issued_at and effective_at stay as they are: that is the place in line.
        _update_ticket(
            tx,
            ticket.id,
            {
                "state": state.value,
                "service_id": target,
                "transferred_from_id": ticket.service_id,
                "counter_id": None,
                "clerk_id": None,
                "called_at": None,
                "started_at": None,
            },
        )
        return _ticket_outcome(
            tx,
            "ticket.transferred",
            ticket.id,
            actor=actor,
            now=now,
            reason=reason,
            counter_id=ticket.counter_id,
            data={"from": ticket.service_code, "to": service_code},
            extra={"from_service": ticket.service_code, "to_service": service_code},
        )

    return db.atomic(work)


def set_counter_state(
    db: Database, counter_id: int, state: str, *, actor: Principal, now: datetime
) -> Outcome:
    """Open, pause or close a counter."""
    if state not in CounterState.ALL:
        raise InvalidInput(f"state must be one of {', '.join(CounterState.ALL)}", field="state")
    require_role(actor, *STAFF_AT_COUNTER)

    def work(tx: Tx) -> Outcome:
        counter = find_counter(tx, counter_id, lock=True)
        require_center(actor, counter.center_id)
        require_counter(actor, counter.id)
        if state != CounterState.OPEN:
            _require_free(tx, counter)
        tx.run(
            "UPDATE counters SET state = :state WHERE id = :id", {"state": state, "id": counter.id}
        )
        center_id, center_code = tx.one(_CENTER_BY_ID, {"id": counter.center_id})  # type: ignore[misc]
        seq = append_event(
            tx,
            center_id,
            center_code,
            "counter.changed",
            actor=actor,
            now=now,
            counter_id=counter.id,
            data={"number": counter.number, "from": counter.state, "to": state},
        )
        forget_summaries(tx, center_id, business_day(now, counter.timezone), onwards=True)
        view = counter_view(tx, find_counter(tx, counter.id))
        payload = {"center": center_code, "seq": seq, "counter": view}
        return Outcome(view, [Published("counter.changed", payload)])

    return db.atomic(work)
