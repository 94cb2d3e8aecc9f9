"""Reading the facts that statistics are computed from: tickets and the event log.

Figures themselves are defined once, in `server.domain.stats`; this module only turns
rows into `TicketFacts` and `CounterInterval`s. First calls and counter states come
from the event log (a transfer clears a ticket's own call time; a counter keeps only
its current state), never from counters kept on the side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.errors import InvalidInput
from server.domain.stats import CounterInterval, CounterState, Scope, TicketFacts, build_report
from server.domain.tickets import Priority, TicketState
from server.queries import find_center
from server.store import Tx

MAX_RANGE_DAYS = 366

_TICKET_FACTS = """
SELECT t.id, s.code, t.issued_at, t.state, t.priority, k.number, u.username,
    (SELECT min(e.at) FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket.called'),
    t.started_at, t.finished_at, t.transferred_from_id, t.recall_count, t.out_of_order,
    s.min_service_s
FROM tickets t
JOIN services s ON s.id = t.service_id
LEFT JOIN counters k ON k.id = t.counter_id
LEFT JOIN users u ON u.id = t.clerk_id
WHERE t.center_id = :center_id AND t.issued_at >= :start AND t.issued_at < :end
ORDER BY t.id"""
_COUNTER_CHANGES = """
SELECT k.number, e.at, e.data
FROM events e JOIN counters k ON k.id = e.counter_id
WHERE e.center_id = :center_id AND e.type = 'counter.changed' AND e.at < :end
ORDER BY k.number, e.seq"""
_SLA = "SELECT code, sla_minutes FROM services WHERE center_id = :center_id"


def ticket_facts(tx: Tx, center_id: int, start: datetime, end: datetime) -> Iterator[TicketFacts]:
    """The tickets issued in [start, end), as statistics see them."""
    rows = tx.all(
        _TICKET_FACTS, {"center_id": center_id, "start": tx.time(start), "end": tx.time(end)}
    )
    for row in rows:
        yield TicketFacts(
            id=row[0],
            service=row[1],
            issued_at=tx.read_time(row[2]),  # type: ignore[arg-type]
            state=TicketState(row[3]),
            priority=Priority(row[4]),
            counter=None if row[5] is None else str(row[5]),
            clerk=row[6],
            first_called_at=tx.read_time(row[7]),
            started_at=tx.read_time(row[8]),
            finished_at=tx.read_time(row[9]),
            transferred=row[10] is not None,
            recalls=row[11],
            out_of_order=bool(row[12]),
            service_min_s=float(row[13]),
        )


def counter_intervals(tx: Tx, center_id: int, end: datetime) -> list[CounterInterval]:
    """Open and paused stretches of every counter up to `end`, from `counter.changed`."""
    intervals: list[CounterInterval] = []
    current: dict[str, tuple[str, datetime]] = {}

    def close(counter: str, at: datetime) -> None:
        if counter in current:
            state, since = current.pop(counter)
            if state in (CounterState.OPEN, CounterState.PAUSED) and at > since:
                intervals.append(CounterInterval(counter, CounterState(state), since, at))

    for number, at, data in tx.all(_COUNTER_CHANGES, {"center_id": center_id, "end": tx.time(end)}):
        counter, when = str(number), tx.read_time(at)
        assert when is not None
        close(counter, when)
        current[counter] = (json.loads(data).get("to", ""), when)
    for counter in list(current):
        close(counter, end)
    return intervals


FIRST_YEAR, LAST_YEAR = 2000, 2999  # a service center's records fall well inside


def _day(value: str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", field=field) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(f"{field} must be between {FIRST_YEAR} and {LAST_YEAR}", field=field)
    return day


def center_report(
    tx: Tx,
    code: str,
    *,
    now: datetime,
    from_day: str | None = None,
    to_day: str | None = None,
    service: str | None = None,
    counter: str | None = None,
    clerk: str | None = None,
) -> dict[str, object]:
    """Statistics for one center over local days `from_day`..`to_day` (default: today)."""
    center = find_center(tx, code)
    timezone = str(center["timezone"])
    today = now.astimezone(ZoneInfo(timezone)).date()
    first, last = _day(from_day, "from"), _day(to_day, "to")
    if first is None:
        first = last or today
    if last is None:
        last = max(first, today)
    scope = Scope(timezone=timezone, from_day=first, to_day=last, service=service or None,
                  counter=counter or None, clerk=clerk or None)  # fmt: skip
    if (last - first) > timedelta(days=MAX_RANGE_DAYS - 1):
        raise InvalidInput(
            f"a report covers at most {MAX_RANGE_DAYS} days", field="to", code="range_too_long"
        )
    start, end = scope.window()
    assert start is not None and end is not None
    facts = list(ticket_facts(tx, int(center["id"]), start, end))  # type: ignore[call-overload]
    intervals = counter_intervals(tx, int(center["id"]), min(end, now))  # type: ignore[call-overload]
    sla = dict(tx.all(_SLA, {"center_id": center["id"]}))
    body = build_report(facts, intervals, sla, scope).to_dict()
    return {"center": center["code"], **body}
