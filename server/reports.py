"""Statistics reports: who may read one, what it is computed from, and keeping the
summaries long ranges merge.

Figures are defined once, in `server.domain.stats` (one ticket's figures, a report from
tickets), `server.domain.summaries` (summaries and merging them) and
`server.domain.histogram`; the SQL that reads facts and stores summaries is in
`server.store.stats`. This module decides what a report merges, what to summarise and
when, and `read_report` is the one way the API, the dashboard and `taboor report` ask
for a report.

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
  deletes those from its day on (`server.operations`, through
  `server.store.stats.forget_summaries`). Past days change rarely (a
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
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from taboor.server.auth import Principal, Role, require_center, require_role
from taboor.server.db import Database
from taboor.server.domain.errors import InvalidInput, NotFound
from taboor.server.domain.stats import Scope, TicketFacts, build_report, local_midnight
from taboor.server.domain.summaries import (
    ALL,
    GroupSummary,
    PeriodSummary,
    combine_centers,
    report_from_periods,
    rollup,
    summarise_days,
)
from taboor.server.queries import find_center
from taboor.server.store import Tx
from taboor.server.store import stats as store
from taboor.server.store.stats import DAY, MONTH, StoredPeriod, SummaryKind

MAX_RANGE_DAYS = 366
# Bump when the meaning or layout of stored summaries changes: old ones are then ignored.
SUMMARY_VERSION = 1
# Days computed per read when summarising (bounds memory and each write transaction).
CHUNK_DAYS = 31
# Who may read a center's statistics (an admin alone reads every center's together).
READERS = (Role.MANAGER, Role.ADMIN)


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
    targets = store.service_targets(tx, center_id)
    basis = json.dumps([SUMMARY_VERSION, timezone,
                        [[t.code, t.sla_minutes, t.min_service_s] for t in targets]])  # fmt: skip
    sla = {t.code: t.sla_minutes for t in targets}
    return sla, hashlib.sha256(basis.encode()).hexdigest()[:32]


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
            if not store.counter_exists(tx, self.center_id, int(counter)):
                return False
        return clerk is None or store.clerk_exists(tx, clerk)

    @property
    def merges_summaries(self) -> bool:
        """Whether the report merges summaries: more than one day, and filters (if any)
        that name a service, counter and clerk that exist (else nothing matches, at once).
        """
        return self.first != self.last and self.filters_exist

    def kind(self, span: str) -> SummaryKind:
        """The stored summaries of this request's center and filters, of `span`."""
        return SummaryKind(self.center_id, store.filters_key(self.scope.filters), span)

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
        return list(store.ticket_facts(tx, self.center_id, start, end, self.scope))

    def summarise(self, tx: Tx, first: date, last: date) -> dict[date, PeriodSummary]:
        """Day summaries of first..last, computed from tickets and events now."""
        facts = self.facts(tx, first, last)
        start = local_midnight(first, self.zone)
        # Counters' time up to the end of the days, or of the latest service if later.
        end = local_midnight(last + timedelta(days=1), self.zone)
        end = max([end, *(t.finished_at for t in facts if t.finished_at is not None)])
        intervals = store.counter_intervals(tx, self.center_id, start, min(end, self.now))
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


# --- reading a report -------------------------------------------------------------------


def require_reader(tx: Tx, actor: Principal | None, center: str | None) -> None:
    """Who may read statistics: a center's, its managers and every admin; every center's
    together, admins (the command line, as the system, reads any).

    Unauthorized without an actor, Forbidden for anyone else, NotFound for no such center.
    """
    if center is None:
        require_role(actor, Role.ADMIN)
        return
    reader = require_role(actor, *READERS)
    require_center(reader, int(find_center(tx, center)["id"]))  # type: ignore[call-overload]


def read_report(
    db: Database,
    center: str | None,
    *,
    actor: Principal | None,
    now: datetime,
    from_day: str | None = None,
    to_day: str | None = None,
    service: str | None = None,
    counter: str | None = None,
    clerk: str | None = None,
) -> dict[str, object]:
    """The report `actor` asks for: a center's, or every center's together when `center`
    is None, over local days `from_day`..`to_day` (default: today).

    Checks who asks (`require_reader`), stores the past days' summaries the range lacks
    (outside the report's read, which would not see them), then reads the report. The
    API, the dashboard and `taboor report` all ask through here.
    """
    with db.reading() as tx:
        require_reader(tx, actor, center)
    if center is None:
        if counter:
            raise InvalidInput("a counter belongs to one center", field="counter")
        summarise_all_centers(db, now=now, from_day=from_day, to_day=to_day, service=service,
                              clerk=clerk)  # fmt: skip
        with db.reading() as tx:
            return all_centers_report(tx, now=now, from_day=from_day, to_day=to_day,
                                      service=service, clerk=clerk)  # fmt: skip
    asked = {"from_day": from_day, "to_day": to_day, "service": service, "counter": counter,
             "clerk": clerk}  # fmt: skip
    summarise(db, center, now=now, **asked)
    with db.reading() as tx:
        return center_report(tx, center, now=now, **asked)


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
        facts = store.ticket_facts(tx, req.center_id, start, end, req.scope)
        intervals = store.counter_intervals(tx, req.center_id, start, min(end, now))
        report = build_report(facts, intervals, req.sla, req.scope)
    return {"center": req.code, **report.to_dict()}


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
        for code in store.center_codes(tx)
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
        codes = store.center_codes(tx)
    return sum(
        summarise(db, code, now=now, from_day=from_day, to_day=to_day, service=service,
                  clerk=clerk)  # fmt: skip
        for code in codes
    )


def _periods(tx: Tx, req: _Request) -> tuple[list[PeriodSummary], dict[date, GroupSummary]]:
    """Summaries that partition the range, and each day's total for `by_day`."""
    closed_last = min(req.last, req.today - timedelta(days=1))
    days, months = req.kind(DAY), req.kind(MONTH)
    day_marks = _valid(tx, req, DAY, req.first, closed_last)
    month_marks = {}
    for first, last in req.closed_months():
        marks = _valid(tx, req, MONTH, first, first)
        # Usable only with every day's total beside it (for by_day); always so when the
        # month was built, but a summary is never trusted beyond what it can show.
        if first in marks and all(d in day_marks for d in _days(first, last)):
            month_marks[first] = marks[first]
    periods: list[PeriodSummary] = []
    day_totals: dict[date, GroupSummary] = {}
    covered: set[date] = set()
    for first, mark in month_marks.items():
        last = _month_end(first)
        groups = store.stored_groups(tx, months, first, first)[first]
        periods.append(PeriodSummary(first, last, groups, mark.implausible_ids,
                                     req.scope.filters))  # fmt: skip
        covered.update(_days(first, last))
    if covered:
        totals = store.stored_groups(tx, days, min(covered), max(covered), ALL)
        for day, groups in totals.items():
            if day in covered and day in day_marks:
                day_totals[day] = groups.get((ALL, ""), GroupSummary())
    stored = [d for d in _days(req.first, closed_last) if d in day_marks and d not in covered]
    for first, last in _runs(stored, longest=MAX_RANGE_DAYS):
        for day, groups in store.stored_groups(tx, days, first, last).items():
            if day in day_marks and day not in covered:
                summary = PeriodSummary(day, day, groups, day_marks[day].implausible_ids,
                                        req.scope.filters)  # fmt: skip
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


def _valid(tx: Tx, req: _Request, span: str, first: date, last: date) -> dict[date, StoredPeriod]:
    """Stored periods starting first..last on the request's current basis, by first day."""
    periods = store.stored_periods(tx, req.kind(span), first, last)
    return {p.first_day: p for p in periods if p.basis == req.basis}


def _write(
    db: Database,
    req: _Request,
    seq: int,
    days: Sequence[PeriodSummary],
    months: Sequence[PeriodSummary] = (),
) -> int:
    """Store summaries computed from facts read at event `seq`, except what changed since."""

    def work(tx: Tx) -> int:
        store.lock_center(tx, req.center_id)
        timezone = str(find_center(tx, req.code)["timezone"])
        if _catalog(tx, req.center_id, timezone)[1] != req.basis:
            return 0  # the catalog changed meanwhile: these are stale already
        touched = store.touched_days(tx, req.center_id, seq)
        changed_at = store.first_counter_change(tx, req.center_id, seq)
        counters_from = None if changed_at is None else changed_at.astimezone(req.zone).date()

        def unchanged(p: PeriodSummary) -> bool:
            if counters_from is not None and p.last >= counters_from:
                return False
            return not any(p.first <= d <= p.last for d in touched)

        head = store.event_seq(tx, req.center_id)
        written = 0
        for summary in days:
            if unchanged(summary):
                store.store_period(tx, req.kind(DAY), summary, basis=req.basis, seq=head,
                                   built_at=req.now)  # fmt: skip
                written += 1
        for summary in months:
            if unchanged(summary):
                store.store_period(tx, req.kind(MONTH), summary, basis=req.basis, seq=head,
                                   built_at=req.now)  # fmt: skip
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
        marks = _valid(tx, req, DAY, req.first, closed_last)
    written = 0
    missing = [d for d in _days(req.first, closed_last) if d not in marks]
    for first, last in _runs(missing):
        with db.reading() as tx:
            seq = store.event_seq(tx, req.center_id)
            summaries = req.summarise(tx, first, last)
        written += _write(db, req, seq, list(summaries.values()))
    for first, last in req.closed_months():
        with db.reading() as tx:
            if first in _valid(tx, req, MONTH, first, first):
                continue
            days = _valid(tx, req, DAY, first, last)
            if not all(d in days for d in _days(first, last)):
                continue  # a day changed meanwhile; the next report tries again
            seq = store.event_seq(tx, req.center_id)
            groups = store.stored_groups(tx, req.kind(DAY), first, last)
            filters = req.scope.filters
            month = rollup(
                [
                    PeriodSummary(d, d, groups.get(d, {}), days[d].implausible_ids, filters)
                    for d in _days(first, last)
                ]
            )
        _write(db, req, seq, (), [month])
    return written


def forget_summaries(tx: Tx, code: str) -> None:
    """Drop every stored summary of a center (they are rebuilt on demand)."""
    store.forget_center(tx, int(find_center(tx, code)["id"]))  # type: ignore[call-overload]


def stored_days(tx: Tx, code: str) -> list[date]:
    """The days of a center that have a stored summary (whatever its basis)."""
    return store.stored_days(tx, int(find_center(tx, code)["id"]))  # type: ignore[call-overload]
