"""Statistics reports: reading their facts, and keeping the summaries long ranges merge.

Figures themselves are defined once, in `server.domain.stats`; this module turns rows
into `TicketFacts` and `CounterInterval`s and stores and loads day and month summaries.
First calls and counter states come from the event log (a transfer clears a ticket's
own call time; a counter keeps only its current state), never from counters kept on
the side.

How a report is computed:

- **One day**: from the day's tickets, exactly (`build_report`).
- **Several days**: by merging summaries (`report_from_periods`): a stored month
  summary for each whole closed month of the range that has one, stored day summaries
  for the other closed days, and summaries computed on the spot for the rest (today,
  or days not stored yet). A stored summary is the one that would be computed on the
  spot, so what is stored changes only the speed, never the figures. p50 and p90 then
  come from histograms (resolution in the module doc of `stats`). A filtered report
  (service, counter, clerk) merges summaries made with the same filters, stored beside
  the unfiltered ones the first time someone asks for them.

Keeping stored summaries true:

- Only closed days (before the center's local today) and whole closed months are
  stored. Each records the *basis* it was computed with (time zone, every service's
  SLA target and minimum service time); a summary on another basis is ignored.
- Every operation that changes a ticket deletes its day's and month's summaries (for
  every filter) in the transaction that appends the event, and a counter change
  deletes those from its day on (`server.operations`). Past days change rarely (a
  leftover ticket cancelled, a late call), so the next report recomputes just that day
  and month.
- `summarise` builds missing summaries lazily, for the range a report is about to read.
  It reads and computes inside a read transaction (a cold year takes a while and must
  not hold SQLite's single writer lock), then writes in one short write transaction,
  leaving out every day whose tickets or counters changed after it read them (events
  with a later sequence number). Lazily rather than at midnight: nothing runs on the
  hot path or on a timer, and days nobody reports on cost nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from taboor.server.db import Database
from taboor.server.domain.counters import CounterState
from taboor.server.domain.errors import InvalidInput, NotFound
from taboor.server.domain.stats import (
    ALL,
    CounterInterval,
    Durations,
    GroupSummary,
    PeriodSummary,
    Scope,
    TicketFacts,
    build_report,
    combine_centers,
    local_midnight,
    report_from_periods,
    rollup,
    summarise_days,
)
from taboor.server.domain.tickets import Priority, TicketState
from taboor.server.queries import find_center
from taboor.server.store import Tx

MAX_RANGE_DAYS = 366
# Bump when the meaning or layout of stored summaries changes: old ones are then ignored.
SUMMARY_VERSION = 1
DAY, MONTH = "day", "month"
# Days computed per read when summarising (bounds memory and each write transaction).
CHUNK_DAYS = 31

# The first call is the ticket's called_at unless a transfer cleared it; only then is
# the event log asked (a transferred ticket is rare, and the lookup is per ticket).
# Services, counters and clerks are mapped from ids in Python: a few dozen rows, where
# joins would cost three lookups for each of a million tickets.
_TICKET_FACTS = """
SELECT t.id, t.service_id, t.issued_at, t.state, t.priority, t.counter_id, t.clerk_id,
    CASE WHEN t.transferred_from_id IS NULL THEN t.called_at ELSE
        (SELECT min(e.at) FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket.called')
    END,
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
    "service": "SELECT id, code, min_service_s FROM services WHERE center_id = :center_id",
    "counter": "SELECT id, number, NULL FROM counters WHERE center_id = :center_id",
    # Clerks of any center: a ticket keeps the clerk who handled it, wherever they are now.
    "clerk": "SELECT id, username, NULL FROM users",
}
# Each counter's state when a window opens, then its changes inside the window.
_COUNTER_STATE_AT = """
SELECT k.number, (
    SELECT e.data FROM events e
    WHERE e.center_id = k.center_id AND e.counter_id = k.id AND e.type = 'counter.changed'
      AND e.at < :start
    ORDER BY e.at DESC, e.seq DESC LIMIT 1)
FROM counters k WHERE k.center_id = :center_id"""
_COUNTER_CHANGES = """
SELECT k.number, e.at, e.data
FROM counters k CROSS JOIN events e
WHERE k.center_id = :center_id AND e.center_id = k.center_id AND e.counter_id = k.id
  AND e.type = 'counter.changed' AND e.at >= :start AND e.at < :end
ORDER BY k.number, e.at, e.seq"""  # CROSS: SQLite seeks each counter's changes by time
_COUNTER_EXISTS = "SELECT 1 FROM counters WHERE center_id = :center_id AND number = :number"
_CLERK_EXISTS = "SELECT 1 FROM users WHERE username = :username"
_SERVICES = """
SELECT code, sla_minutes, min_service_s FROM services WHERE center_id = :center_id
ORDER BY code"""
_EVENT_SEQ = "SELECT event_seq FROM centers WHERE id = :id"
_LOCK_CENTER = "SELECT id FROM centers WHERE id = :id FOR UPDATE"
# What changed after a summary's facts were read.
_TOUCHED_DAYS = """
SELECT DISTINCT t.day FROM events e JOIN tickets t ON t.id = e.ticket_id
WHERE e.center_id = :center_id AND e.seq > :seq"""
_FIRST_COUNTER_CHANGE = """
SELECT min(e.at) FROM events e
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
    names = {}
    for dim, query in _NAMES.items():
        rows = tx.all(query, {"center_id": center_id})
        names[dim] = {id_: (str(name), extra) for id_, name, extra in rows}
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
    for row in tx.all(sql, params):
        service, min_s = services[row[1]]
        yield TicketFacts(
            id=row[0],
            service=service,
            issued_at=read_time(row[2]),  # type: ignore[arg-type]
            state=_STATES[row[3]],
            priority=_PRIORITIES[row[4]],
            counter=None if row[5] is None else counters[row[5]][0],
            clerk=None if row[6] is None else clerks[row[6]][0],
            first_called_at=read_time(row[7]),
            started_at=read_time(row[8]),
            finished_at=read_time(row[9]),
            transferred=row[10] is not None,
            recalls=row[11],
            out_of_order=bool(row[12]),
            service_min_s=float(min_s),
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
    for number, data in tx.all(_COUNTER_STATE_AT, window):
        if data is not None:
            current[str(number)] = (json.loads(data).get("to", ""), start)
    for number, at, data in tx.all(_COUNTER_CHANGES, window):
        counter, when = str(number), tx.read_time(at)
        assert when is not None
        close(counter, when)
        current[counter] = (json.loads(data).get("to", ""), when)
    for counter in list(current):
        close(counter, end)
    return intervals


# --- the request ----------------------------------------------------------------------

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


def _catalog(tx: Tx, center_id: int, timezone: str) -> tuple[dict[str, int], str]:
    """The services' SLA targets, and the basis: all a summary depends on besides the
    tickets and events (the time zone, SLA targets and minimum service times)."""
    rows = tx.all(_SERVICES, {"center_id": center_id})
    basis = json.dumps([SUMMARY_VERSION, timezone, [[c, int(a), int(b)] for c, a, b in rows]])
    return {c: int(a) for c, a, _ in rows}, hashlib.sha256(basis.encode()).hexdigest()[:32]


class _Request:
    """A report request, validated: the center, the scope and the center's today."""

    def __init__(
        self,
        tx: Tx,
        code: str,
        now: datetime,
        from_day: str | None,
        to_day: str | None,
        service: str | None = None,
        counter: str | None = None,
        clerk: str | None = None,
    ) -> None:
        center = find_center(tx, code)
        self.center_id = int(center["id"])  # type: ignore[call-overload]
        self.code = str(center["code"])
        self.timezone = str(center["timezone"])
        self.zone = ZoneInfo(self.timezone)
        self.now = now
        self.today = now.astimezone(self.zone).date()
        first, last = _day(from_day, "from"), _day(to_day, "to")
        if first is None:
            first = last or self.today
        if last is None:
            last = max(first, self.today)
        self.scope = Scope(timezone=self.timezone, from_day=first, to_day=last,
                           service=service or None, counter=counter or None,
                           clerk=clerk or None)  # fmt: skip
        if (last - first) > timedelta(days=MAX_RANGE_DAYS - 1):
            raise InvalidInput(
                f"a report covers at most {MAX_RANGE_DAYS} days", field="to", code="range_too_long"
            )
        self.first, self.last = first, last
        self.sla, self.basis = _catalog(tx, self.center_id, self.timezone)
        self.filters_exist = self._filters_exist(tx)

    def _filters_exist(self, tx: Tx) -> bool:
        service, counter, clerk = self.scope.filters
        if service is not None and service not in self.sla:
            return False
        if counter is not None:
            if not (counter.isascii() and counter.isdigit() and len(counter) < 10):
                return False
            number = {"center_id": self.center_id, "number": int(counter)}
            if tx.one(_COUNTER_EXISTS, number) is None:
                return False
        return clerk is None or tx.one(_CLERK_EXISTS, {"username": clerk}) is not None

    @property
    def merges_summaries(self) -> bool:
        """Whether the report merges summaries: more than one day, and filters (if any)
        that name a service, counter and clerk that exist (else nothing matches, at once).
        """
        return self.first != self.last and self.filters_exist

    @property
    def filters(self) -> str:
        """The scope's filters as stored with summaries: "" for none, else JSON."""
        if not self.scope.filtered:
            return ""
        return json.dumps(self.scope.filters, ensure_ascii=False, separators=(",", ":"))

    def closed_months(self) -> list[tuple[date, date]]:
        """The whole calendar months inside the range that ended before today."""
        months = []
        month = self.first.replace(day=1)
        while month <= self.last:
            end = _month_end(month)
            if month >= self.first and end <= self.last and end < self.today:
                months.append((month, end))
            month = end + timedelta(days=1)
        return months

    def facts(self, tx: Tx, first: date, last: date) -> list[TicketFacts]:
        start = local_midnight(first, self.zone)
        end = local_midnight(last + timedelta(days=1), self.zone)
        return list(ticket_facts(tx, self.center_id, start, end, self.scope))

    def summarise(self, tx: Tx, first: date, last: date) -> dict[date, PeriodSummary]:
        """Day summaries of first..last, computed from tickets and events now."""
        facts = self.facts(tx, first, last)
        start = local_midnight(first, self.zone)
        # Counters' time up to the end of the days, or of the latest service if later.
        end = local_midnight(last + timedelta(days=1), self.zone)
        end = max([end, *(t.finished_at for t in facts if t.finished_at is not None)])
        intervals = counter_intervals(tx, self.center_id, start, min(end, self.now))
        days = _days(first, last)
        return summarise_days(facts, intervals, self.sla, self.timezone, days, self.scope.filters)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _runs(days: Iterable[date], longest: int = CHUNK_DAYS) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs of at most `longest` days."""
    run: list[date] = []
    for day in sorted(days):
        if run and (day != run[-1] + timedelta(days=1) or len(run) == longest):
            yield run[0], run[-1]
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1]


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
    """Statistics for one center over local days `from_day`..`to_day` (default: today).

    Call `summarise` first (outside this read) to make a long range fast.
    """
    req = _Request(tx, code, now, from_day, to_day, service, counter, clerk)
    if req.merges_summaries:
        periods, day_totals = _periods(tx, req)
        report = report_from_periods(periods, day_totals, req.sla, req.scope)
    else:
        start, end = req.scope.window()
        assert start is not None and end is not None
        facts = ticket_facts(tx, req.center_id, start, end, req.scope)
        intervals = counter_intervals(tx, req.center_id, start, min(end, now))
        report = build_report(facts, intervals, req.sla, req.scope)
    return {"center": req.code, **report.to_dict()}


_CENTER_CODES = "SELECT code FROM centers ORDER BY code"


def all_centers_report(
    tx: Tx,
    *,
    now: datetime,
    from_day: str | None = None,
    to_day: str | None = None,
    service: str | None = None,
    clerk: str | None = None,
) -> dict[str, object]:
    """Statistics of every center together over local days `from_day`..`to_day` (an
    admin's view), with each center's own figures in `by_center`.

    Each center counts its own local days; services, clerks and hours add up across
    centers, counters are "<center>/<number>". Percentiles come from histograms even
    for one day (the centers' days are merged as summaries). Filters: a service (in
    the centers that offer it) and a clerk; a counter is a center's own (use its
    report). Call `summarise_all_centers` first to make a long range fast.
    """
    requests = [
        _Request(tx, code, now, from_day, to_day, service, None, clerk)
        for (code,) in tx.all(_CENTER_CODES)
    ]
    if not requests:
        raise NotFound("there is no center yet", code="center_not_found")
    first = min(r.first for r in requests)
    last = max(r.last for r in requests)
    sla: dict[str, int] = {}
    parts = {}
    for req in requests:
        for code, minutes in req.sla.items():
            sla.setdefault(code, minutes)
        parts[req.code] = _periods(tx, req) if req.filters_exist else ([], {})
    filters = (service or None, None, clerk or None)
    combined, day_totals, by_center = combine_centers(first, last, parts, filters)
    zones = {r.timezone for r in requests}
    scope = Scope(timezone=zones.pop() if len(zones) == 1 else "local", from_day=first,
                  to_day=last, service=filters[0], clerk=filters[2])  # fmt: skip
    report = report_from_periods([combined], day_totals, sla, scope)
    return {
        "centers": [r.code for r in requests],
        **report.to_dict(),
        "by_center": {code: total.figures().to_dict() for code, total in by_center.items()},
    }


def summarise_all_centers(
    db: Database,
    *,
    now: datetime,
    from_day: str | None = None,
    to_day: str | None = None,
    service: str | None = None,
    clerk: str | None = None,
) -> int:
    """`summarise` for every center (what `all_centers_report` will merge)."""
    with db.reading() as tx:
        codes = [code for (code,) in tx.all(_CENTER_CODES)]
    return sum(
        summarise(db, code, now=now, from_day=from_day, to_day=to_day, service=service,
                  clerk=clerk)  # fmt: skip
        for code in codes
    )


def _periods(tx: Tx, req: _Request) -> tuple[list[PeriodSummary], dict[date, GroupSummary]]:
    """Summaries that partition the range, and each day's total for `by_day`."""
    closed_last = min(req.last, req.today - timedelta(days=1))
    day_marks = _valid_marks(tx, req, DAY, req.first, closed_last)
    month_marks = {}
    for first, last in req.closed_months():
        marks = _valid_marks(tx, req, MONTH, first, first)
        # Usable only with every day's total beside it (for by_day); always so when the
        # month was built, but a summary is never trusted beyond what it can show.
        if first in marks and all(d in day_marks for d in _days(first, last)):
            month_marks[first] = marks[first]
    periods: list[PeriodSummary] = []
    day_totals: dict[date, GroupSummary] = {}
    covered: set[date] = set()
    for first, ids in month_marks.items():
        last = _month_end(first)
        groups = _load_groups(tx, req, MONTH, first, first)[first]
        periods.append(PeriodSummary(first, last, groups, _ids(ids), req.scope.filters))
        covered.update(_days(first, last))
    if covered:
        for day, groups in _load_groups(tx, req, DAY, min(covered), max(covered), ALL).items():
            if day in covered and day in day_marks:
                day_totals[day] = groups.get((ALL, ""), GroupSummary())
    stored = [d for d in _days(req.first, closed_last) if d in day_marks and d not in covered]
    for first, last in _runs(stored, longest=MAX_RANGE_DAYS):
        for day, groups in _load_groups(tx, req, DAY, first, last).items():
            if day in day_marks and day not in covered:
                summary = PeriodSummary(day, day, groups, _ids(day_marks[day]), req.scope.filters)
                periods.append(summary)
                day_totals[day] = groups.get((ALL, ""), GroupSummary())
                covered.add(day)
    missing = [d for d in _days(req.first, req.last) if d not in covered]
    for first, last in _runs(missing):
        for day, summary in req.summarise(tx, first, last).items():
            periods.append(summary)
            day_totals[day] = summary.total
    return periods, day_totals


# --- stored summaries -----------------------------------------------------------------


def _valid_marks(tx: Tx, req: _Request, span: str, first: date, last: date) -> dict[date, str]:
    """Stored periods on the current basis: first day -> implausible ticket ids (JSON)."""
    if last < first:
        return {}
    rows = tx.all(
        _PERIODS,
        {
            "center_id": req.center_id,
            "filters": req.filters,
            "span": span,
            "first": tx.day(first),
            "last": tx.day(last),
        },  # fmt: skip
    )
    return {tx.read_day(first_day): ids for first_day, _, basis, ids in rows if basis == req.basis}


def _ids(text: str) -> tuple[int, ...]:
    return tuple(json.loads(text))


def _load_groups(
    tx: Tx, req: _Request, span: str, first: date, last: date, dim: str | None = None
) -> dict[date, dict[tuple[str, str], GroupSummary]]:
    sql = _GROUPS if dim is None else _GROUPS + " AND dim = :dim"
    params = {"center_id": req.center_id, "filters": req.filters, "span": span,
              "first": tx.day(first),
              "last": tx.day(last), "dim": dim}  # fmt: skip
    result: dict[date, dict[tuple[str, str], GroupSummary]] = {}
    counts = len(GroupSummary.COUNTS)
    for row in tx.all(sql, params):
        day = tx.read_day(row[0])
        c = 3 + counts
        later = row[c + 11]
        result.setdefault(day, {})[(row[1], row[2])] = GroupSummary(
            *row[3:c],
            wait=Durations(row[c], row[c + 1], row[c + 2], Durations.histogram_from(row[c + 3])),
            service=Durations(
                row[c + 4], row[c + 5], row[c + 6], Durations.histogram_from(row[c + 7])
            ),
            open_s=row[c + 8],
            paused_s=row[c + 9],
            serving_s=row[c + 10],
            serving_later={}
            if later is None
            else {date.fromisoformat(d): s for d, s in json.loads(later).items()},
        )
    return result


def _store(tx: Tx, req: _Request, span: str, summary: PeriodSummary, seq: int) -> None:
    """Replace the stored summary of one period."""
    key = {"center_id": req.center_id, "filters": req.filters, "span": span,
           "first": tx.day(summary.first)}  # fmt: skip
    tx.run(_DELETE_GROUPS, key)
    tx.run(_DELETE_PERIOD, key)
    tx.run(
        _INSERT_PERIOD,
        {
            **key,
            "last": tx.day(summary.last),
            "basis": req.basis,
            "seq": seq,
            "implausible_ids": json.dumps(list(summary.implausible_ids)),
            "built_at": tx.time(req.now),
        },
    )
    for (dim, group_key), g in summary.groups.items():
        later = None
        if g.serving_later:
            later = json.dumps({d.isoformat(): s for d, s in sorted(g.serving_later.items())})
        tx.run(
            _INSERT_GROUP,
            {
                "center_id": req.center_id,
                "filters": req.filters,
                "span": span,
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


def _write(
    db: Database,
    req: _Request,
    seq: int,
    days: Sequence[PeriodSummary],
    months: Sequence[PeriodSummary] = (),
) -> int:
    """Store summaries computed from facts read at event `seq`, except what changed since."""

    def work(tx: Tx) -> int:
        if tx.postgres:
            # Operations bump the center's event_seq before they forget summaries, so
            # holding this row orders them entirely before or after this write.
            tx.run(_LOCK_CENTER, {"id": req.center_id})
        timezone = str(find_center(tx, req.code)["timezone"])
        if _catalog(tx, req.center_id, timezone)[1] != req.basis:
            return 0  # the catalog changed meanwhile: these are stale already
        touched = {tx.read_day(d) for (d,) in tx.all(
            _TOUCHED_DAYS, {"center_id": req.center_id, "seq": seq})}  # fmt: skip
        changed_at = tx.read_time(
            tx.scalar(_FIRST_COUNTER_CHANGE, {"center_id": req.center_id, "seq": seq})
        )
        counters_from = None if changed_at is None else changed_at.astimezone(req.zone).date()

        def unchanged(p: PeriodSummary) -> bool:
            if counters_from is not None and p.last >= counters_from:
                return False
            return not any(p.first <= d <= p.last for d in touched)

        head = tx.scalar(_EVENT_SEQ, {"id": req.center_id})
        written = 0
        for summary in days:
            if unchanged(summary):
                _store(tx, req, DAY, summary, head)
                written += 1
        for summary in months:
            if unchanged(summary):
                _store(tx, req, MONTH, summary, head)
        return written

    return db.atomic(work)


def summarise(
    db: Database,
    code: str,
    *,
    now: datetime,
    from_day: str | None = None,
    to_day: str | None = None,
    service: str | None = None,
    counter: str | None = None,
    clerk: str | None = None,
) -> int:
    """Store the missing summaries a report with these arguments would merge.

    Takes the arguments of `center_report` (and validates them the same way); returns
    the number of days summarised. Cheap when nothing is missing.
    """
    with db.reading() as tx:
        req = _Request(tx, code, now, from_day, to_day, service, counter, clerk)
        if not req.merges_summaries:
            return 0
        closed_last = min(req.last, req.today - timedelta(days=1))
        marks = _valid_marks(tx, req, DAY, req.first, closed_last)
    written = 0
    missing = [d for d in _days(req.first, closed_last) if d not in marks]
    for first, last in _runs(missing):
        with db.reading() as tx:
            seq = tx.scalar(_EVENT_SEQ, {"id": req.center_id})
            summaries = req.summarise(tx, first, last)
        written += _write(db, req, seq, list(summaries.values()))
    for first, last in req.closed_months():
        with db.reading() as tx:
            if first in _valid_marks(tx, req, MONTH, first, first):
                continue
            days = _valid_marks(tx, req, DAY, first, last)
            if not all(d in days for d in _days(first, last)):
                continue  # a day changed meanwhile; the next report tries again
            seq = tx.scalar(_EVENT_SEQ, {"id": req.center_id})
            groups = _load_groups(tx, req, DAY, first, last)
            filters = req.scope.filters
            month = rollup(
                [
                    PeriodSummary(d, d, groups.get(d, {}), _ids(days[d]), filters)
                    for d in _days(first, last)
                ]
            )
        _write(db, req, seq, (), [month])
    return written


def forget_summaries(tx: Tx, code: str) -> None:
    """Drop every stored summary of a center (they are rebuilt on demand)."""
    center_id = find_center(tx, code)["id"]
    tx.run("DELETE FROM stats_groups WHERE center_id = :id", {"id": center_id})
    tx.run("DELETE FROM stats_periods WHERE center_id = :id", {"id": center_id})


def stored_days(tx: Tx, code: str) -> list[date]:
    """The days of a center that have a stored summary (whatever its basis)."""
    center_id = find_center(tx, code)["id"]
    rows = tx.all(
        "SELECT first_day FROM stats_periods WHERE center_id = :id AND span = :span"
        " ORDER BY first_day",
        {"id": center_id, "span": DAY},
    )
    return [tx.read_day(d) for (d,) in rows]
