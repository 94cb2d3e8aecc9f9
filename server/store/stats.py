"""Statistics in the database: the facts reports are computed from, and the stored day
and month summaries long reports merge (tables `stats_periods` and `stats_groups`).

Facts: tickets as `TicketFacts`, counters' open and paused time as `CounterInterval`s
(`server.domain.stats`). First calls and counter states come from the event log (a
transfer clears a ticket's own call time; a counter keeps only its current state),
never from counters kept on the side. A year holds a million tickets, so the bulk reads
find their columns by name once per statement, not once per row.

Summaries are filed by center, filters ("" for none, else JSON [service, counter,
clerk]), span (a day or a month) and first day; each period row carries the basis it
was computed with and the event sequence number it reflects, and its groups hold the
additive figures of `server.domain.summaries.GroupSummary`. What to store and when is
`server/reports.py`'s business; forgetting what a ticket or counter change makes stale
happens here, in the transaction of that change (`forget_summaries`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from taboor.server.domain.counters import CounterState
from taboor.server.domain.histogram import Durations
from taboor.server.domain.stats import CounterInterval, Scope, TicketFacts
from taboor.server.domain.summaries import GroupSummary, PeriodSummary
from taboor.server.domain.tickets import Priority, TicketState
from taboor.server.store import Tx

DAY, MONTH = "day", "month"  # a stored period's span

# The first call is the ticket's called_at unless a transfer cleared it; only then is
# the event log asked (a transferred ticket is rare, and the lookup is per ticket).
# Services, counters and clerks are mapped from ids in Python: a few dozen rows, where
# joins would cost three lookups for each of a million tickets.
_TICKET_FACTS = """
SELECT t.id, t.service_id, t.issued_at, t.state, t.priority, t.counter_id, t.clerk_id,
    CASE WHEN t.transferred_from_id IS NULL THEN t.called_at ELSE
        (SELECT min(e.at) FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket.called')
    END AS first_called_at,
    t.started_at, t.finished_at, t.transferred_from_id, t.recall_count, t.out_of_order
FROM tickets t
WHERE t.center_id = :center_id AND t.day >= :first_day AND t.day <= :last_day
  AND t.issued_at >= :start AND t.issued_at < :end"""
_FILTERS = {
    "service": " AND t.service_id = :service",
    "counter": " AND t.counter_id = :counter",
    "clerk": " AND t.clerk_id = :clerk",
}  # by id: the first two are indexed (ix_tickets_done, ix_tickets_counter)
_NAMES = {
    "service": "SELECT id, code AS name, min_service_s FROM services WHERE center_id = :center_id",
    "counter": "SELECT id, number AS name, 0 AS min_service_s FROM counters"
    " WHERE center_id = :center_id",
    # Clerks of any center: a ticket keeps the clerk who handled it, wherever they are now.
    "clerk": "SELECT id, username AS name, 0 AS min_service_s FROM users",
}
# Each counter's state when a window opens, then its changes inside the window.
_COUNTER_STATE_AT = """
SELECT k.number, (
    SELECT e.data FROM events e
    WHERE e.center_id = k.center_id AND e.counter_id = k.id AND e.type = 'counter.changed'
      AND e.at < :start
    ORDER BY e.at DESC, e.seq DESC LIMIT 1) AS data
FROM counters k WHERE k.center_id = :center_id"""
_COUNTER_CHANGES = """
SELECT k.number, e.at, e.data
FROM counters k CROSS JOIN events e
WHERE k.center_id = :center_id AND e.center_id = k.center_id AND e.counter_id = k.id
  AND e.type = 'counter.changed' AND e.at >= :start AND e.at < :end
ORDER BY k.number, e.at, e.seq"""  # CROSS: SQLite seeks each counter's changes by time
_COUNTER_EXISTS = "SELECT 1 FROM counters WHERE center_id = :center_id AND number = :number"
_CLERK_EXISTS = "SELECT 1 FROM users WHERE username = :username"
_SERVICE_TARGETS = """
SELECT code, sla_minutes, min_service_s FROM services WHERE center_id = :center_id
ORDER BY code"""
_CENTER_CODES = "SELECT code FROM centers ORDER BY code"
# Each center with its first business day that has a ticket (NULL: none yet).
_CENTER_HISTORIES = """
SELECT c.code, c.timezone, (SELECT min(t.day) FROM tickets t WHERE t.center_id = c.id)
    AS first_day
FROM centers c ORDER BY c.code"""
_EVENT_SEQ = "SELECT event_seq FROM centers WHERE id = :id"
_LOCK_CENTER = "SELECT id FROM centers WHERE id = :id FOR UPDATE"
# What changed after a summary's facts were read.
_TOUCHED_DAYS = """
SELECT DISTINCT t.day FROM events e JOIN tickets t ON t.id = e.ticket_id
WHERE e.center_id = :center_id AND e.seq > :seq"""
_FIRST_COUNTER_CHANGE = """
SELECT min(e.at) AS at FROM events e
WHERE e.center_id = :center_id AND e.seq > :seq AND e.type = 'counter.changed'"""

_PERIODS = """
SELECT first_day, last_day, basis, implausible_ids FROM stats_periods
WHERE center_id = :center_id AND filters = :filters AND span = :span
  AND first_day >= :first AND first_day <= :last"""
_GROUP_COLUMNS = (
    "first_day", "dim", "group_key", *GroupSummary.COUNTS, "wait_n", "wait_sum", "wait_max",
    "wait_hist", "service_n", "service_sum", "service_max", "service_hist", "open_s",
    "paused_s", "serving_s", "serving_later",
)  # fmt: skip
_GROUPS = f"""
SELECT {", ".join(_GROUP_COLUMNS)} FROM stats_groups
WHERE center_id = :center_id AND filters = :filters AND span = :span
  AND first_day >= :first AND first_day <= :last"""
_DELETE_PERIOD = """
DELETE FROM stats_periods
WHERE center_id = :center_id AND filters = :filters AND span = :span AND first_day = :first"""
_DELETE_GROUPS = """
DELETE FROM stats_groups
WHERE center_id = :center_id AND filters = :filters AND span = :span AND first_day = :first"""
_INSERT_PERIOD = """
INSERT INTO stats_periods (center_id, filters, span, first_day, last_day, basis, seq,
    implausible_ids, built_at)
VALUES (:center_id, :filters, :span, :first, :last, :basis, :seq, :implausible_ids,
    :built_at)"""
_INSERT_GROUP = f"""
INSERT INTO stats_groups (center_id, filters, span, {", ".join(_GROUP_COLUMNS)})
VALUES (:center_id, :filters, :span, {", ".join(":" + c for c in _GROUP_COLUMNS)})"""
_STORED_DAYS = """
SELECT first_day FROM stats_periods WHERE center_id = :center_id AND span = 'day'
ORDER BY first_day"""
_FORGET_CENTER = [
    f"DELETE FROM {table} WHERE center_id = :center_id"
    for table in ("stats_groups", "stats_periods")
]
# A day's stored summaries stop being true when one of its tickets changes, or its
# counters' time does: the day's and its month's (for every filter) are forgotten in
# the transaction that appends the event, after it: appending holds the center's row,
# which orders this before or after any summary being written, never across it. On
# the usual day there is nothing to forget, and one probe of an index (center, first
# day) says so; groups exist only beside their period's row.
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


def _columns(tx: Tx) -> dict[str, int]:
    """Where each column of the statement just run sits in its rows, by name."""
    return {column[0]: i for i, column in enumerate(tx.cursor.description)}


# --- facts ----------------------------------------------------------------------------


def ticket_facts(
    tx: Tx, center_id: int, start: datetime, end: datetime, scope: Scope | None = None
) -> Iterator[TicketFacts]:
    """The tickets issued in [start, end), as statistics see them (narrowed by `scope`'s
    filters when given: the filters are applied again by the domain, this only reads less).
    """
    sql = _TICKET_FACTS
    # A ticket's business day is the local date it was issued on: bounding the days too
    # lets the query use the (center, day) index. Without a scope's time zone, a day
    # either side of the UTC dates covers every zone.
    if scope is not None:
        zone = ZoneInfo(scope.timezone)
        first_day = start.astimezone(zone).date()
        last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    else:
        first_day, last_day = start.date() - timedelta(days=1), end.date() + timedelta(days=1)
    params: dict[str, object] = {
        "center_id": center_id,
        "start": tx.time(start),
        "end": tx.time(end),
        "first_day": tx.day(first_day),
        "last_day": tx.day(last_day),
    }
    names: dict[str, dict[int, tuple[str, float]]] = {}
    for dim, query in _NAMES.items():
        names[dim] = {
            row["id"]: (str(row["name"]), float(row["min_service_s"]))
            for row in tx.mappings(query, {"center_id": center_id})
        }
        wanted = None if scope is None else getattr(scope, dim)
        if wanted is not None:
            # Codes, numbers and usernames are unique (in the center): one id or none.
            found = [id_ for id_, (name, _) in names[dim].items() if name == wanted]
            if not found:
                return  # no such service, counter or clerk: no tickets
            sql += _FILTERS[dim]
            params[dim] = found[0]
    services, counters, clerks = names["service"], names["counter"], names["clerk"]
    read_time = _time_reader(tx)
    rows = tx.all(sql, params)
    at = _columns(tx)
    id_, service_id, issued_at, state = at["id"], at["service_id"], at["issued_at"], at["state"]
    priority, counter_id, clerk_id = at["priority"], at["counter_id"], at["clerk_id"]
    first_called_at, started_at = at["first_called_at"], at["started_at"]
    finished_at, transferred_from_id = at["finished_at"], at["transferred_from_id"]
    recall_count, out_of_order = at["recall_count"], at["out_of_order"]
    for row in rows:
        service, min_s = services[row[service_id]]
        counter, clerk = row[counter_id], row[clerk_id]
        yield TicketFacts(
            id=row[id_],
            service=service,
            issued_at=read_time(row[issued_at]),  # type: ignore[arg-type]
            state=_STATES[row[state]],
            priority=_PRIORITIES[row[priority]],
            counter=None if counter is None else counters[counter][0],
            clerk=None if clerk is None else clerks[clerk][0],
            first_called_at=read_time(row[first_called_at]),
            started_at=read_time(row[started_at]),
            finished_at=read_time(row[finished_at]),
            transferred=row[transferred_from_id] is not None,
            recalls=row[recall_count],
            out_of_order=bool(row[out_of_order]),
            service_min_s=min_s,
        )


_STATES = {s.value: s for s in TicketState}
_PRIORITIES = {p.value: p for p in Priority}


def _time_reader(tx: Tx) -> Callable[[object], datetime | None]:
    """Tx.read_time, quicker for a million values: SQLite's text parsed with its zone."""
    if tx.postgres:
        return tx.read_time
    parse = datetime.fromisoformat

    def read(value: object) -> datetime | None:
        return None if value is None else parse(value + "+00:00")  # type: ignore[operator]

    return read


def counter_intervals(
    tx: Tx, center_id: int, start: datetime, end: datetime
) -> list[CounterInterval]:
    """Open and paused stretches of every counter inside [start, end), from `counter.changed`."""
    intervals: list[CounterInterval] = []
    current: dict[str, tuple[str, datetime]] = {}

    def close(counter: str, at: datetime) -> None:
        if counter in current:
            state, since = current.pop(counter)
            if state in (CounterState.OPEN, CounterState.PAUSED) and at > since:
                intervals.append(CounterInterval(counter, CounterState(state), since, at))

    window = {"center_id": center_id, "start": tx.time(start), "end": tx.time(end)}
    for row in tx.mappings(_COUNTER_STATE_AT, window):
        if row["data"] is not None:
            current[str(row["number"])] = (json.loads(row["data"]).get("to", ""), start)
    for row in tx.mappings(_COUNTER_CHANGES, window):
        counter, when = str(row["number"]), tx.read_time(row["at"])
        assert when is not None
        close(counter, when)
        current[counter] = (json.loads(row["data"]).get("to", ""), when)
    for counter in list(current):
        close(counter, end)
    return intervals


# --- what a report is computed with -----------------------------------------------------


@dataclass(frozen=True)
class ServiceTarget:
    """A service's SLA target and minimum plausible service time."""

    code: str
    sla_minutes: int
    min_service_s: int


def service_targets(tx: Tx, center_id: int) -> list[ServiceTarget]:
    """The center's services (retired ones too), by code."""
    return [
        ServiceTarget(str(row["code"]), int(row["sla_minutes"]), int(row["min_service_s"]))
        for row in tx.mappings(_SERVICE_TARGETS, {"center_id": center_id})
    ]


def counter_exists(tx: Tx, center_id: int, number: int) -> bool:
    return tx.one(_COUNTER_EXISTS, {"center_id": center_id, "number": number}) is not None


def clerk_exists(tx: Tx, username: str) -> bool:
    return tx.one(_CLERK_EXISTS, {"username": username}) is not None


def center_codes(tx: Tx) -> list[str]:
    """Every center's code, in order."""
    return [str(row["code"]) for row in tx.mappings(_CENTER_CODES)]


@dataclass(frozen=True)
class CenterHistory:
    """A center and its first business day with a ticket (None: no ticket yet)."""

    code: str
    timezone: str
    first_day: date | None


def center_histories(tx: Tx) -> list[CenterHistory]:
    """Every center, by code, with the first day it has tickets of."""
    return [
        CenterHistory(
            str(row["code"]),
            str(row["timezone"]),
            None if row["first_day"] is None else tx.read_day(row["first_day"]),
        )
        for row in tx.mappings(_CENTER_HISTORIES)
    ]


# --- what changed meanwhile -----------------------------------------------------------


def event_seq(tx: Tx, center_id: int) -> int:
    """The sequence number of the center's latest event."""
    return int(tx.scalar(_EVENT_SEQ, {"id": center_id}))


def lock_center(tx: Tx, center_id: int) -> None:
    """Hold the center's row until commit (PostgreSQL; SQLite has one writer anyway).

    Operations bump the center's event_seq before they forget summaries, so holding
    this row orders them entirely before or after a summary being written.
    """
    if tx.postgres:
        tx.run(_LOCK_CENTER, {"id": center_id})


def touched_days(tx: Tx, center_id: int, after_seq: int) -> set[date]:
    """The business days of the tickets that events after `after_seq` changed."""
    rows = tx.mappings(_TOUCHED_DAYS, {"center_id": center_id, "seq": after_seq})
    return {tx.read_day(row["day"]) for row in rows}


def first_counter_change(tx: Tx, center_id: int, after_seq: int) -> datetime | None:
    """When the first counter change after event `after_seq` happened, if any."""
    row = tx.mapping(_FIRST_COUNTER_CHANGE, {"center_id": center_id, "seq": after_seq})
    return None if row is None else tx.read_time(row["at"])


# --- stored summaries -----------------------------------------------------------------


@dataclass(frozen=True)
class SummaryKind:
    """Summaries of one kind: a center's, made with these filters, of periods of this span."""

    center_id: int
    filters: str  # "" for none, else `filters_key`
    span: str  # DAY or MONTH

    def params(self, tx: Tx, first: date, last: date | None = None) -> dict[str, object]:
        """The statement parameters naming this kind, from `first` (to `last`)."""
        params = {"center_id": self.center_id, "filters": self.filters, "span": self.span,
                  "first": tx.day(first)}  # fmt: skip
        if last is not None:
            params["last"] = tx.day(last)
        return params


def filters_key(filters: tuple[str | None, str | None, str | None]) -> str:
    """The (service, counter, clerk) filters as summaries are filed: "" for none."""
    if filters == (None, None, None):
        return ""
    return json.dumps(filters, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class StoredPeriod:
    """A stored day or month: its days, basis and implausibly short tickets."""

    first_day: date
    last_day: date
    basis: str
    implausible_ids: tuple[int, ...]


def stored_periods(tx: Tx, kind: SummaryKind, first: date, last: date) -> list[StoredPeriod]:
    """The stored periods of this kind that start between `first` and `last`."""
    if last < first:
        return []
    return [
        StoredPeriod(
            tx.read_day(row["first_day"]),
            tx.read_day(row["last_day"]),
            str(row["basis"]),
            tuple(json.loads(row["implausible_ids"])),
        )
        for row in tx.mappings(_PERIODS, kind.params(tx, first, last))
    ]


def stored_groups(
    tx: Tx, kind: SummaryKind, first: date, last: date, dim: str | None = None
) -> dict[date, dict[tuple[str, str], GroupSummary]]:
    """The groups of the stored periods of this kind that start between `first` and `last`
    (only those of dimension `dim` when given), by period and (dimension, key)."""
    sql = _GROUPS if dim is None else _GROUPS + " AND dim = :dim"
    params = kind.params(tx, first, last)
    if dim is not None:
        params["dim"] = dim
    rows = tx.all(sql, params)
    at = _columns(tx)
    counts = [(name, at[name]) for name in GroupSummary.COUNTS]
    result: dict[date, dict[tuple[str, str], GroupSummary]] = {}
    for row in rows:
        later = row[at["serving_later"]]
        group = GroupSummary(
            **{name: row[i] for name, i in counts},
            wait=_durations(row, at, "wait"),
            service=_durations(row, at, "service"),
            open_s=row[at["open_s"]],
            paused_s=row[at["paused_s"]],
            serving_s=row[at["serving_s"]],
            serving_later={}
            if later is None
            else {date.fromisoformat(d): s for d, s in json.loads(later).items()},
        )
        day = tx.read_day(row[at["first_day"]])
        result.setdefault(day, {})[(row[at["dim"]], row[at["group_key"]])] = group
    return result


def _durations(row: Sequence[Any], at: Mapping[str, int], prefix: str) -> Durations:
    """A group's waits or service times from their columns (`wait_n`, `wait_sum`, ...)."""
    return Durations(
        row[at[f"{prefix}_n"]],
        row[at[f"{prefix}_sum"]],
        row[at[f"{prefix}_max"]],
        Durations.histogram_from(row[at[f"{prefix}_hist"]]),
    )


def store_period(
    tx: Tx, kind: SummaryKind, summary: PeriodSummary, *, basis: str, seq: int, built_at: datetime
) -> None:
    """Replace the stored summary of one period."""
    key = kind.params(tx, summary.first)
    tx.run(_DELETE_GROUPS, key)
    tx.run(_DELETE_PERIOD, key)
    tx.run(
        _INSERT_PERIOD,
        {
            **key,
            "last": tx.day(summary.last),
            "basis": basis,
            "seq": seq,
            "implausible_ids": json.dumps(list(summary.implausible_ids)),
            "built_at": tx.time(built_at),
        },
    )
    for (dim, group_key), g in summary.groups.items():
        later = None
        if g.serving_later:
            later = json.dumps({d.isoformat(): s for d, s in sorted(g.serving_later.items())})
        tx.run(
            _INSERT_GROUP,
            {
                "center_id": kind.center_id,
                "filters": kind.filters,
                "span": kind.span,
                "first_day": tx.day(summary.first),
                "dim": dim,
                "group_key": group_key,
                **{name: getattr(g, name) for name in GroupSummary.COUNTS},
                "wait_n": g.wait.count,
                "wait_sum": g.wait.total,
                "wait_max": g.wait.high,
                "wait_hist": g.wait.histogram_bytes(),
                "service_n": g.service.count,
                "service_sum": g.service.total,
                "service_max": g.service.high,
                "service_hist": g.service.histogram_bytes(),
                "open_s": g.open_s,
                "paused_s": g.paused_s,
                "serving_s": g.serving_s,
                "serving_later": later,
            },
        )


def stored_days(tx: Tx, center_id: int) -> list[date]:
    """The days of a center that have a stored summary (whatever its filters or basis)."""
    rows = tx.mappings(_STORED_DAYS, {"center_id": center_id})
    return [tx.read_day(row["first_day"]) for row in rows]


def forget_center(tx: Tx, center_id: int) -> None:
    """Drop every stored summary of a center."""
    for sql in _FORGET_CENTER:
        tx.run(sql, {"center_id": center_id})


def forget_summaries(tx: Tx, center_id: int, day: date, *, onwards: bool = False) -> None:
    """Drop the stored statistics of a business day and its month (and later, `onwards`)."""
    params = {"center_id": center_id, "day": tx.day(day), "month": tx.day(day.replace(day=1))}
    if tx.one(_SUMMARISED[onwards], params) is not None:
        for sql in _FORGET_SUMMARIES[onwards]:
            tx.run(sql, params)
