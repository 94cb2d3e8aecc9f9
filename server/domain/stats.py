"""Statistics for managers: outcomes, waits, service times, SLA and counter utilisation.

Pure functions over plain facts: the data layer (`server/store/stats.py`) reads
tickets, events and counter state changes and hands them in as `TicketFacts` and
`CounterInterval`s. Every figure the API, the dashboard and the PDF report show is
defined here, once:

- **Scope.** A ticket belongs to the center's local business day and local hour of its
  *issue* time; the range `from_day..to_day` is inclusive in local days. All of a
  ticket's figures (outcome, wait, service time) go to that day and hour, even when it
  was served after midnight. Filters: `service` matches the ticket's final service (a
  transferred ticket counts where it ended up), `counter` and `clerk` the last counter
  and clerk that handled it, so a never-called ticket drops out under those two.
- **Outcomes.** `issued` = every ticket in scope; `served` = final state done;
  `no_show`, `cancelled` = those final states; `pending` = not final yet (waiting,
  called or serving when the facts were read). served + no_show + cancelled + pending
  = issued. `transferred` counts tickets transferred at least once, whatever their
  outcome. `recalls` sums recalls; `out_of_order` counts tickets called out of order.
- **Wait** (`wait_s`) = first call - issue, for every ticket called at least once,
  whatever followed: served, no-show (the center did call: the wait it caused ended),
  cancelled after a call, transferred (its first call, in the first service). Tickets
  never called (cancelled while waiting, or still waiting) are left out: their wait is
  unknown, not zero.
- **Service time** (`service_s`) = done - start, for served tickets with a start. A
  service time shorter than the service's minimum plausible time is counted in
  `implausible` (its id in `implausible_ids`) and left out of `service_s`; the ticket
  still counts as served.
- **Summaries** (`wait_s`, `service_s`): `{"mean","p50","p90","max","count"}` in
  seconds rounded to 0.1 s; percentiles by the *nearest-rank* method (see
  `nearest_rank`), so p50 of an even count is the lower middle value. With count 0 every
  value is None.
- **SLA** ("X% served within T minutes", T from the ticket's final service): `within`
  = tickets whose wait is at most T; `total` = tickets with a wait, plus tickets
  cancelled before any call after waiting more than T (they left past the target: a
  certain miss, and counting them keeps abandonment from improving the ratio). A ticket
  cancelled uncalled within T, or still waiting, is in neither. `ratio` = within /
  total rounded to 4 places, None when total is 0.
- **Utilisation** (per counter and overall): `open_s`, `paused_s` = the counter's
  intervals in those states, clipped to the range; `serving_s` = start -> done time of
  the report's served tickets at that counter (implausible ones too: they occupied the
  counter) that falls inside its open intervals; `ratio` = serving_s / open_s rounded to
  4 places, None when open_s is 0. Open and paused time belong to a counter, not to a
  service or clerk, so those two filters leave them whole and only narrow serving_s.
- **Groups** (`by_service`, `by_counter`, `by_clerk`, `by_hour` keyed "00".."23",
  `by_day` keyed "YYYY-MM-DD"): the same figures for the tickets of each key; only keys
  with tickets appear, except that `by_counter` also lists counters that have open or
  paused time in the range.

Reports over many days merge additive summaries instead (`server/domain/summaries.py`):
every figure is the one defined here, except p50 and p90, which then come from
histograms (`server/domain/histogram.py`); `Report.percentiles` says which kind a report
has.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from taboor.server.domain.counters import CounterState
from taboor.server.domain.errors import InvalidInput
from taboor.server.domain.histogram import HIST_GROWTH, HIST_LINEAR_S, Durations
from taboor.server.domain.tickets import Priority, TicketState

# Display precision: tenths of a second and ratios to 0.01 %.
SECONDS_PLACES = 1
RATIO_PLACES = 4


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


@dataclass(frozen=True)
class TicketFacts:
    """One ticket as statistics see it; all times aware UTC.

    `first_called_at` is the ticket's first call (from the event log: a transfer clears
    the ticket's own called_at); `counter` and `clerk` are the last that handled it, as
    opaque keys the caller chooses (counter number, username). For a no-show or a
    cancelled ticket `finished_at` is when it was marked so.
    """

    id: int
    service: str
    issued_at: datetime
    state: TicketState
    priority: Priority = Priority.NORMAL
    counter: str | None = None
    clerk: str | None = None
    first_called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    transferred: bool = False
    recalls: int = 0
    out_of_order: bool = False
    service_min_s: float = 0.0

    def __post_init__(self) -> None:
        # Checked without a call per field: reports build a million of these a year.
        times = (self.issued_at, self.first_called_at, self.started_at, self.finished_at)
        for value in times:
            if value is not None and value.tzinfo is None:
                names = ("issued_at", "first_called_at", "started_at", "finished_at")
                for name, each in zip(names, times, strict=True):
                    _require_aware(name, each)


@dataclass(frozen=True)
class CounterInterval:
    """A stretch of time a counter spent open or paused (closed time is not reported)."""

    counter: str
    state: CounterState
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if self.end < self.start:
            raise ValueError("an interval cannot end before it starts")


@dataclass(frozen=True)
class Scope:
    """What a report covers: the center's time zone, local days and optional filters."""

    timezone: str = "Asia/Damascus"
    from_day: date | None = None
    to_day: date | None = None
    service: str | None = None
    counter: str | None = None
    clerk: str | None = None

    def __post_init__(self) -> None:
        if self.from_day and self.to_day and self.to_day < self.from_day:
            raise InvalidInput("the range ends before it starts", field="to", code="bad_range")

    @property
    def filters(self) -> tuple[str | None, str | None, str | None]:
        """(service, counter, clerk)."""
        return self.service, self.counter, self.clerk

    @property
    def filtered(self) -> bool:
        return self.filters != (None, None, None)

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The range as UTC instants [start, end): local midnight to the midnight after."""
        zone = ZoneInfo(self.timezone)
        start = end = None
        if self.from_day is not None:
            start = local_midnight(self.from_day, zone)
        if self.to_day is not None:
            end = local_midnight(self.to_day + timedelta(days=1), zone)
        return start, end


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day begins."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def nearest_rank(ordered: Sequence[float], p: int) -> float | None:
    """The p-th percentile of sorted values by nearest rank: the value at rank ceil(p/100*n).

    Always an observed value ("90 % of citizens waited at most this"); None for no values.
    """
    if not 0 < p <= 100:
        raise ValueError("p must be in 1..100")
    n = len(ordered)
    if n == 0:
        return None
    # Integer ceiling: float p/100*n can land a hair above a whole rank (0.9*10).
    rank = -(-p * n // 100)
    return ordered[rank - 1]


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, SECONDS_PLACES)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, RATIO_PLACES) if den else None


@dataclass(frozen=True)
class Summary:
    """Mean, nearest-rank p50 and p90, max and count of durations in seconds."""

    mean: float | None
    p50: float | None
    p90: float | None
    max: float | None
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        """Summarise durations (seconds); every value None when there are none."""
        ordered = sorted(values)
        n = len(ordered)
        mean = sum(ordered) / n if n else None
        return cls(
            mean=_seconds(mean),
            p50=_seconds(nearest_rank(ordered, 50)),
            p90=_seconds(nearest_rank(ordered, 90)),
            max=_seconds(ordered[-1] if n else None),
            count=n,
        )

    @classmethod
    def of_durations(cls, d: Durations) -> Summary:
        """Summarise merged durations: mean and max exact, p50 and p90 from the histogram."""
        if d.count == 0:
            return cls.of(())
        p50, p90 = d.percentiles(50, 90)
        return cls(
            mean=_seconds(d.total / d.count),
            p50=_seconds(p50),
            p90=_seconds(p90),
            max=_seconds(d.high),
            count=d.count,
        )

    def to_dict(self) -> dict[str, float | int | None]:
        return {"mean": self.mean, "p50": self.p50, "p90": self.p90, "max": self.max,
                "count": self.count}  # fmt: skip


@dataclass(frozen=True)
class Sla:
    """Tickets called within their service's target, out of those whose outcome is known."""

    within: int
    total: int

    @property
    def ratio(self) -> float | None:
        return _ratio(self.within, self.total)

    def to_dict(self) -> dict[str, float | int | None]:
        return {"ratio": self.ratio, "within": self.within, "total": self.total}


@dataclass(frozen=True)
class Utilisation:
    """A counter's (or all counters') open, paused and serving seconds."""

    open_s: float = 0.0
    paused_s: float = 0.0
    serving_s: float = 0.0

    @property
    def ratio(self) -> float | None:
        return _ratio(self.serving_s, self.open_s)

    def __add__(self, other: Utilisation) -> Utilisation:
        return Utilisation(
            self.open_s + other.open_s,
            self.paused_s + other.paused_s,
            self.serving_s + other.serving_s,
        )

    def to_dict(self) -> dict[str, float | None]:
        return {
            "open_s": _seconds(self.open_s),
            "paused_s": _seconds(self.paused_s),
            "serving_s": _seconds(self.serving_s),
            "ratio": self.ratio,
        }


@dataclass(frozen=True)
class Figures:
    """The figures reported for the whole scope and for each group."""

    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    pending: int = 0
    transferred: int = 0
    recalls: int = 0
    out_of_order: int = 0
    implausible: int = 0
    wait_s: Summary = field(default_factory=lambda: Summary.of(()))
    service_s: Summary = field(default_factory=lambda: Summary.of(()))
    sla: Sla = field(default_factory=lambda: Sla(0, 0))

    def to_dict(self) -> dict[str, object]:
        return {
            "issued": self.issued,
            "served": self.served,
            "no_show": self.no_show,
            "cancelled": self.cancelled,
            "pending": self.pending,
            "transferred": self.transferred,
            "recalls": self.recalls,
            "out_of_order": self.out_of_order,
            "implausible": self.implausible,
            "wait_s": self.wait_s.to_dict(),
            "service_s": self.service_s.to_dict(),
            "sla": self.sla.to_dict(),
        }


@dataclass(frozen=True)
class Report:
    """Statistics for one scope; `to_dict()` is the JSON the API returns."""

    scope: Scope
    totals: Figures
    utilisation: Utilisation
    implausible_ids: tuple[int, ...]
    sla_targets_min: Mapping[str, int]
    by_service: Mapping[str, Figures]
    by_counter: Mapping[str, Figures]
    counter_utilisation: Mapping[str, Utilisation]
    by_clerk: Mapping[str, Figures]
    by_hour: Mapping[int, Figures]
    by_day: Mapping[date, Figures]
    # "exact" (from tickets) or "histogram" (merged summaries: server/domain/histogram.py).
    percentiles: str = "exact"

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly: string keys, ISO dates, seconds as numbers, None for no data."""
        scope = self.scope
        method: dict[str, object] = {"method": self.percentiles}
        if self.percentiles == "histogram":
            method.update(linear_below_s=HIST_LINEAR_S, absolute_s=1.0,
                          relative=round(HIST_GROWTH - 1, 4))  # fmt: skip
        return {
            "timezone": scope.timezone,
            "from": scope.from_day.isoformat() if scope.from_day else None,
            "to": scope.to_day.isoformat() if scope.to_day else None,
            "filters": {
                "service": scope.service,
                "counter": scope.counter,
                "clerk": scope.clerk,
            },
            "percentiles": method,
            **self.totals.to_dict(),
            "implausible_ids": list(self.implausible_ids),
            "sla_targets_min": dict(self.sla_targets_min),
            "utilisation": self.utilisation.to_dict(),
            "by_service": {k: v.to_dict() for k, v in self.by_service.items()},
            "by_counter": {
                k: {**v.to_dict(), "utilisation": self.counter_utilisation[k].to_dict()}
                for k, v in self.by_counter.items()
            },
            "by_clerk": {k: v.to_dict() for k, v in self.by_clerk.items()},
            "by_hour": {f"{k:02d}": v.to_dict() for k, v in self.by_hour.items()},
            "by_day": {k.isoformat(): v.to_dict() for k, v in self.by_day.items()},
        }


# What one ticket adds to a group (`classify`): its outcome's slot in the counts, its
# wait, its service time, SLA hit, SLA counted, implausible.
Outcome = tuple[int, float | None, float | None, bool, bool, bool]


def tally_counts(c: list[int], t: TicketFacts, slot: int, implausible: bool) -> None:
    """Count one ticket into the counts every group keeps (exact and summarised alike)."""
    c[0] += 1
    c[slot] += 1
    c[5] += t.transferred
    c[6] += t.recalls
    c[7] += t.out_of_order
    c[8] += implausible


class _Tally:
    """Accumulates one group's figures in a single pass."""

    __slots__ = ("counts", "waits", "services", "within", "sla_total")

    def __init__(self) -> None:
        # issued, served, no_show, cancelled, pending, transferred, recalls, ooo, implausible
        self.counts = [0] * 9
        self.waits: list[float] = []
        self.services: list[float] = []
        self.within = 0
        self.sla_total = 0

    def add(
        self,
        t: TicketFacts,
        outcome: Outcome,
    ) -> None:
        slot, wait, service, sla_hit, sla_counted, implausible = outcome
        c = self.counts
        tally_counts(c, t, slot, implausible)
        if wait is not None:
            self.waits.append(wait)
        if service is not None:
            self.services.append(service)
        self.within += sla_hit
        self.sla_total += sla_counted

    def figures(self) -> Figures:
        c = self.counts
        return Figures(
            issued=c[0], served=c[1], no_show=c[2], cancelled=c[3], pending=c[4],
            transferred=c[5], recalls=c[6], out_of_order=c[7], implausible=c[8],
            wait_s=Summary.of(self.waits), service_s=Summary.of(self.services),
            sla=Sla(self.within, self.sla_total),
        )  # fmt: skip


_OUTCOME_SLOT = {
    TicketState.DONE: 1,
    TicketState.NO_SHOW: 2,
    TicketState.CANCELLED: 3,
}


def classify(t: TicketFacts, sla_minutes: Mapping[str, int]) -> Outcome:
    """What one ticket adds to a group: outcome slot, wait, service time, SLA, implausible.

    The single place the module doc's per-ticket definitions are written down.
    """
    try:
        target_s = sla_minutes[t.service] * 60
    except KeyError:
        raise ValueError(f"no SLA target for service {t.service!r}") from None
    slot = _OUTCOME_SLOT.get(t.state, 4)  # anything not final is pending
    wait = service = None
    sla_hit = sla_counted = False
    if t.first_called_at is not None:
        wait = (t.first_called_at - t.issued_at).total_seconds()
        sla_counted, sla_hit = True, wait <= target_s
    elif t.state == TicketState.CANCELLED and t.finished_at is not None:
        sla_counted = (t.finished_at - t.issued_at).total_seconds() > target_s
    implausible = False
    if t.state == TicketState.DONE and t.started_at and t.finished_at:
        service = (t.finished_at - t.started_at).total_seconds()
        if service < t.service_min_s:
            implausible, service = True, None
    return slot, wait, service, sla_hit, sla_counted, implausible


def serving_span(t: TicketFacts) -> tuple[datetime, datetime] | None:
    """Start -> done of a served ticket at a counter (implausible ones too)."""
    if t.state == TicketState.DONE and t.started_at and t.finished_at and t.counter is not None:
        return t.started_at, t.finished_at
    return None


def counter_order(key: str) -> tuple[str, int, int, str]:
    """The sort key of a counter's group key (`by_counter` is listed in this order)."""
    # Counters are numbered: "2" before "10"; other keys after, alphabetically. Across
    # centers a counter is "<center>/<number>": by center, then by number.
    center, _, number = key.rpartition("/")
    return (center, 0, int(number), "") if number.isdigit() else (center, 1, 0, key)


def merge_spans(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Time spans sorted, overlapping ones joined and empty ones dropped."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return merged


def _clip(
    start: datetime, end: datetime, lo: datetime | None, hi: datetime | None
) -> tuple[datetime, datetime]:
    if lo is not None and start < lo:
        start = lo
    if hi is not None and end > hi:
        end = hi
    return start, max(start, end)


def overlap_s(
    span: tuple[datetime, datetime], merged: list[tuple[datetime, datetime]], ends: list[datetime]
) -> float:
    """Seconds of `span` inside `merged` spans (from `merge_spans`; `ends` their ends)."""
    start, end = span
    total = 0.0
    i = bisect_right(ends, start)
    while i < len(merged) and merged[i][0] < end:
        total += (min(end, merged[i][1]) - max(start, merged[i][0])).total_seconds()
        i += 1
    return total


def _utilisation(
    intervals: Iterable[CounterInterval],
    serving: Mapping[str, list[tuple[datetime, datetime]]],
    scope: Scope,
) -> dict[str, Utilisation]:
    lo, hi = scope.window()
    spans: dict[str, dict[CounterState, list[tuple[datetime, datetime]]]] = {}
    for iv in intervals:
        if scope.counter is not None and iv.counter != scope.counter:
            continue
        start, end = _clip(iv.start, iv.end, lo, hi)
        if end <= start:
            continue  # no time in the range
        by_state = spans.setdefault(iv.counter, {CounterState.OPEN: [], CounterState.PAUSED: []})
        by_state[CounterState(iv.state)].append((start, end))
    result: dict[str, Utilisation] = {}
    for counter in spans.keys() | serving.keys():
        by_state = spans.get(counter, {})
        # Merged so that overlapping intervals handed in twice are not counted twice.
        opened = merge_spans(by_state.get(CounterState.OPEN, []))
        paused = merge_spans(by_state.get(CounterState.PAUSED, []))
        ends = [e for _, e in opened]
        busy = (_clip(s, e, lo, hi) for s, e in serving.get(counter, []))
        result[counter] = Utilisation(
            open_s=sum((e - s).total_seconds() for s, e in opened),
            paused_s=sum((e - s).total_seconds() for s, e in paused),
            serving_s=sum(overlap_s(span, opened, ends) for span in busy),
        )
    return result


def build_report(
    tickets: Iterable[TicketFacts],
    intervals: Iterable[CounterInterval],
    sla_minutes: Mapping[str, int],
    scope: Scope | None = None,
) -> Report:
    """Every statistic for the tickets and counter intervals in `scope` (see module doc)."""
    scope = scope or Scope()
    zone = ZoneInfo(scope.timezone)
    total = _Tally()
    groups: dict[str, dict[Any, _Tally]] = {
        "service": {}, "counter": {}, "clerk": {}, "hour": {}, "day": {}
    }  # fmt: skip
    implausible: list[int] = []
    serving: dict[str, list[tuple[datetime, datetime]]] = {}

    for t in tickets:
        if scope.service is not None and t.service != scope.service:
            continue
        if scope.counter is not None and t.counter != scope.counter:
            continue
        if scope.clerk is not None and t.clerk != scope.clerk:
            continue
        local = t.issued_at.astimezone(zone)
        day = local.date()
        if scope.from_day is not None and day < scope.from_day:
            continue
        if scope.to_day is not None and day > scope.to_day:
            continue
        outcome = classify(t, sla_minutes)
        span = serving_span(t)
        if span is not None:
            serving.setdefault(t.counter, []).append(span)  # type: ignore[arg-type]
        if outcome[5]:
            implausible.append(t.id)

        keys = (
            ("service", t.service), ("counter", t.counter), ("clerk", t.clerk),
            ("hour", local.hour), ("day", day),
        )  # fmt: skip
        tallies = [total]
        for group, key in keys:
            if key is not None:
                tally = groups[group].get(key)
                if tally is None:
                    tally = groups[group][key] = _Tally()
                tallies.append(tally)
        for tally in tallies:
            tally.add(t, outcome)

    per_counter = _utilisation(intervals, serving, scope)
    counters = sorted(groups["counter"].keys() | per_counter.keys(), key=counter_order)

    def figures(group: str, order: Iterable[Any] | None = None) -> dict[Any, Figures]:
        tallies = groups[group]
        keys = order if order is not None else sorted(tallies)
        return {k: (tallies[k].figures() if k in tallies else Figures()) for k in keys}

    overall = Utilisation()
    for u in per_counter.values():
        overall = overall + u
    return Report(
        scope=scope,
        totals=total.figures(),
        utilisation=overall,
        implausible_ids=tuple(sorted(implausible)),
        sla_targets_min=dict(sorted(sla_minutes.items())),
        by_service=figures("service"),
        by_counter=figures("counter", counters),
        counter_utilisation={k: per_counter.get(k, Utilisation()) for k in counters},
        by_clerk=figures("clerk"),
        by_hour=figures("hour"),
        by_day=figures("day"),
    )
