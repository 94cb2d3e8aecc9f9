"""Reports over many days: each day summarised once into additive groups, then merged.

A year holds a million tickets: too many to read for every report. So each day is
summarised once into additive figures per group (the whole day, each service, counter,
clerk and local hour): the counts, SLA tallies, counters' open, paused and serving
seconds, and for waits and service times their count, sum, max and histogram
(`server/domain/histogram.py`). Merging days (or months of days) adds these up
(`rollup`, `combine_centers`), and `report_from_periods` turns the merged groups into a
`Report`. Every figure of a merged report is exactly what `build_report`
(`server/domain/stats.py`) gives for the same tickets, except p50 and p90, which come
from the merged histogram (resolution in the histogram's module doc). A filtered report
merges summaries made with the same filters.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from taboor.server.domain.counters import CounterState
from taboor.server.domain.histogram import HIST_EDGES, Durations, pack
from taboor.server.domain.stats import (
    CounterInterval,
    Figures,
    Outcome,
    Report,
    Scope,
    Sla,
    Summary,
    TicketFacts,
    Utilisation,
    classify,
    counter_order,
    local_midnight,
    merge_spans,
    overlap_s,
    serving_span,
    tally_counts,
)

ALL, SERVICE, COUNTER, CLERK, HOUR = "all", "service", "counter", "clerk", "hour"


@dataclass
class GroupSummary:
    """One group's additive figures over a period (a day, a month).

    A counter's group also carries its open, paused and serving seconds inside the
    period; `serving_later` is serving time of the period's tickets that fell on later
    days (a ticket served after midnight), by local day, so a range that ends before
    that day leaves it out, as `build_report` would.
    """

    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    pending: int = 0
    transferred: int = 0
    recalls: int = 0
    out_of_order: int = 0
    implausible: int = 0
    sla_within: int = 0
    sla_total: int = 0
    wait: Durations = field(default_factory=Durations)
    service: Durations = field(default_factory=Durations)
    open_s: float = 0.0
    paused_s: float = 0.0
    serving_s: float = 0.0
    serving_later: dict[date, float] = field(default_factory=dict)

    COUNTS = ("issued", "served", "no_show", "cancelled", "pending", "transferred",
              "recalls", "out_of_order", "implausible", "sla_within", "sla_total")  # fmt: skip

    def merge(self, other: GroupSummary) -> None:
        """Add `other` into this one."""
        # Spelled out, not a loop over COUNTS: a year's report merges thousands.
        self.issued += other.issued
        self.served += other.served
        self.no_show += other.no_show
        self.cancelled += other.cancelled
        self.pending += other.pending
        self.transferred += other.transferred
        self.recalls += other.recalls
        self.out_of_order += other.out_of_order
        self.implausible += other.implausible
        self.sla_within += other.sla_within
        self.sla_total += other.sla_total
        self.wait.merge(other.wait)
        self.service.merge(other.service)
        self.open_s += other.open_s
        self.paused_s += other.paused_s
        self.serving_s += other.serving_s
        for day, seconds in other.serving_later.items():
            self.serving_later[day] = self.serving_later.get(day, 0.0) + seconds

    def serving_until(self, last: date) -> float:
        """Serving seconds of the period's tickets up to the end of local day `last`."""
        return self.serving_s + sum(s for d, s in self.serving_later.items() if d <= last)

    def figures(self) -> Figures:
        return Figures(
            issued=self.issued, served=self.served, no_show=self.no_show,
            cancelled=self.cancelled, pending=self.pending, transferred=self.transferred,
            recalls=self.recalls, out_of_order=self.out_of_order,
            implausible=self.implausible, wait_s=Summary.of_durations(self.wait),
            service_s=Summary.of_durations(self.service),
            sla=Sla(self.sla_within, self.sla_total),
        )  # fmt: skip


@dataclass
class PeriodSummary:
    """A day's (or a month's) groups, keyed (dimension, key): ("all", "") for the whole
    period, ("service", code), ("counter", number), ("clerk", username), ("hour", "09")."""

    first: date
    last: date
    groups: dict[tuple[str, str], GroupSummary] = field(default_factory=dict)
    implausible_ids: tuple[int, ...] = ()
    # The (service, counter, clerk) filters its tickets were chosen by, as in `Scope`.
    filters: tuple[str | None, str | None, str | None] = (None, None, None)

    @property
    def total(self) -> GroupSummary:
        return self.groups.get((ALL, ""), GroupSummary())


class _GroupTally:
    """Accumulates one group of one day straight into histograms (cf. `stats._Tally`)."""

    __slots__ = ("counts", "wait", "service")

    def __init__(self) -> None:
        # issued, served, no_show, cancelled, pending, transferred, recalls, ooo,
        # implausible, sla_within, sla_total
        self.counts = [0] * 11
        # count, sum, max, {bucket: count}
        self.wait: list[Any] = [0, 0.0, None, {}]
        self.service: list[Any] = [0, 0.0, None, {}]

    def add(
        self,
        t: TicketFacts,
        outcome: Outcome,
        buckets: tuple[int, int],
    ) -> None:
        slot, wait, service, sla_hit, sla_counted, implausible = outcome
        c = self.counts
        tally_counts(c, t, slot, implausible)
        c[9] += sla_hit
        c[10] += sla_counted
        if wait is not None:
            acc = self.wait
            acc[0] += 1
            acc[1] += wait
            if acc[2] is None or wait > acc[2]:
                acc[2] = wait
            acc[3][buckets[0]] = acc[3].get(buckets[0], 0) + 1
        if service is not None:
            acc = self.service
            acc[0] += 1
            acc[1] += service
            if acc[2] is None or service > acc[2]:
                acc[2] = service
            acc[3][buckets[1]] = acc[3].get(buckets[1], 0) + 1

    def summary(self) -> GroupSummary:
        w, s = self.wait, self.service
        summary = GroupSummary(
            wait=Durations(w[0], w[1], w[2], pack(w[3]) if w[0] else 0),
            service=Durations(s[0], s[1], s[2], pack(s[3]) if s[0] else 0),
        )
        for name, count in zip(GroupSummary.COUNTS, self.counts, strict=True):
            setattr(summary, name, count)
        return summary


def _merged_spans(
    intervals: Iterable[CounterInterval],
) -> dict[str, dict[CounterState, tuple[list[tuple[datetime, datetime]], list[datetime]]]]:
    """Per counter and state: merged spans and their ends (for bisecting)."""
    raw: dict[str, dict[CounterState, list[tuple[datetime, datetime]]]] = {}
    for iv in intervals:
        raw.setdefault(iv.counter, {}).setdefault(CounterState(iv.state), []).append(
            (iv.start, iv.end)
        )
    result: dict[str, dict[CounterState, tuple[list[tuple[datetime, datetime]], list[datetime]]]]
    result = {}
    for counter, by_state in raw.items():
        result[counter] = {}
        for state, spans in by_state.items():
            merged = merge_spans(spans)
            result[counter][state] = (merged, [e for _, e in merged])
    return result


def summarise_days(
    tickets: Iterable[TicketFacts],
    intervals: Iterable[CounterInterval],
    sla_minutes: Mapping[str, int],
    timezone: str,
    days: Iterable[date],
    filters: tuple[str | None, str | None, str | None] = (None, None, None),
) -> dict[date, PeriodSummary]:
    """The summary of each of `days` (local days), from its tickets and counter intervals,
    for the tickets that pass `filters` (service, counter, clerk; as in `build_report`).

    Tickets issued on other days are ignored. `intervals` must cover the days and the
    time the days' tickets were served (clipping them is the caller's business).
    """
    zone = ZoneInfo(timezone)
    service_filter, counter_filter, clerk_filter = filters
    if counter_filter is not None:
        intervals = [iv for iv in intervals if iv.counter == counter_filter]
    tallies: dict[date, dict[tuple[str, str], _GroupTally]] = {d: {} for d in sorted(set(days))}
    implausible: dict[date, list[int]] = {d: [] for d in tallies}
    serving: dict[tuple[date, str], list[tuple[datetime, datetime]]] = {}
    hours = [f"{h:02d}" for h in range(24)]
    for t in tickets:
        if (
            (service_filter is not None and t.service != service_filter)
            or (counter_filter is not None and t.counter != counter_filter)
            or (clerk_filter is not None and t.clerk != clerk_filter)
        ):
            continue
        local = t.issued_at.astimezone(zone)
        day = local.date()
        groups = tallies.get(day)
        if groups is None:
            continue
        outcome = classify(t, sla_minutes)
        wait, service = outcome[1], outcome[2]
        buckets = (0 if wait is None else bisect_left(HIST_EDGES, wait),
                   0 if service is None else bisect_left(HIST_EDGES, service))  # fmt: skip
        if outcome[5]:
            implausible[day].append(t.id)
        span = serving_span(t)
        if span is not None:
            serving.setdefault((day, t.counter), []).append(span)  # type: ignore[arg-type]
        keys = ((ALL, ""), (SERVICE, t.service), (COUNTER, t.counter), (CLERK, t.clerk),
                (HOUR, hours[local.hour]))  # fmt: skip
        for key in keys:
            if key[1] is not None:
                tally = groups.get(key)  # type: ignore[arg-type]
                if tally is None:
                    tally = groups[key] = _GroupTally()  # type: ignore[index]
                tally.add(t, outcome, buckets)

    spans = _merged_spans(intervals)
    counters = spans.keys() | {c for _, c in serving}
    result: dict[date, PeriodSummary] = {}
    for day, groups in tallies.items():
        summary = PeriodSummary(
            day,
            day,
            {key: tally.summary() for key, tally in groups.items()},
            tuple(sorted(implausible[day])),
            filters,
        )
        window = (local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone))
        for counter in counters:
            by_state = spans.get(counter, {})
            opened, ends = by_state.get(CounterState.OPEN, ([], []))
            paused = by_state.get(CounterState.PAUSED, ([], []))
            open_s = overlap_s(window, opened, ends)
            paused_s = overlap_s(window, *paused)
            busy = serving.get((day, counter), ())
            group = summary.groups.get((COUNTER, counter))
            if group is None:
                if not (open_s or paused_s or busy):
                    continue
                group = summary.groups[(COUNTER, counter)] = GroupSummary()
            group.open_s, group.paused_s = open_s, paused_s
            for start, end in busy:
                span = (max(start, window[0]), end)
                _add_serving(group, span, day, window[1], opened, ends, zone)
        if not summary.groups:
            summary.groups[(ALL, "")] = GroupSummary()  # an empty day is still summarised
        result[day] = summary
    return result


def _add_serving(
    group: GroupSummary,
    span: tuple[datetime, datetime],
    day: date,
    day_end: datetime,
    opened: list[tuple[datetime, datetime]],
    ends: list[datetime],
    zone: ZoneInfo,
) -> None:
    """Serving time inside open time: the day's part, then each later day's part."""
    start, end = span
    if min(end, day_end) > start:
        group.serving_s += overlap_s((start, min(end, day_end)), opened, ends)
    cursor, later = day_end, day
    while end > cursor:
        later += timedelta(days=1)
        following = local_midnight(later + timedelta(days=1), zone)
        lo, hi = max(start, cursor), min(end, following)
        part = overlap_s((lo, hi), opened, ends) if hi > lo else 0.0
        if part:
            group.serving_later[later] = group.serving_later.get(later, 0.0) + part
        cursor = following


def rollup(periods: Sequence[PeriodSummary]) -> PeriodSummary:
    """One summary for consecutive periods (a month of days), merged group by group."""
    if not periods:
        raise ValueError("nothing to roll up")
    ordered = sorted(periods, key=lambda p: p.first)
    for before, after in pairwise(ordered):
        if after.first != before.last + timedelta(days=1):
            raise ValueError(f"periods are not consecutive at {before.last}")
        if after.filters != before.filters:
            raise ValueError("periods summarise tickets chosen by different filters")
    first, last = ordered[0].first, ordered[-1].last
    groups: dict[tuple[str, str], GroupSummary] = {}
    ids: list[int] = []
    for p in ordered:
        for key, g in p.groups.items():
            groups.setdefault(key, GroupSummary()).merge(g)
        ids.extend(p.implausible_ids)
    for g in groups.values():
        # Serving time that fell inside the rolled-up period is now the period's own.
        inside = [d for d in g.serving_later if d <= last]
        for d in inside:
            g.serving_s += g.serving_later.pop(d)
    return PeriodSummary(first, last, groups, tuple(sorted(ids)), ordered[0].filters)


def combine_centers(
    first: date,
    last: date,
    centers: Mapping[str, tuple[Iterable[PeriodSummary], Mapping[date, GroupSummary]]],
    filters: tuple[str | None, str | None, str | None] = (None, None, None),
) -> tuple[PeriodSummary, dict[date, GroupSummary], dict[str, GroupSummary]]:
    """Several centers' summaries of the local days first..last as one summary.

    `centers` maps a center's code to its summaries partitioning the range and its
    day totals (what `report_from_periods` takes for one center). Services, clerks and
    local hours add up by key (a service code means the same service everywhere);
    counters are numbered per center, so a counter becomes "<center>/<number>". Also
    returns each center's total, for comparing centers.
    """
    merged: dict[tuple[str, str], GroupSummary] = {}
    day_totals: dict[date, GroupSummary] = {}
    by_center: dict[str, GroupSummary] = {}
    ids: list[int] = []
    for code, (periods, days) in sorted(centers.items()):
        own = by_center[code] = GroupSummary()
        for period in periods:
            for (dim, key), group in period.groups.items():
                if dim == COUNTER:
                    key = f"{code}/{key}"
                merged.setdefault((dim, key), GroupSummary()).merge(group)
                if dim == ALL:
                    own.merge(group)
            ids.extend(period.implausible_ids)
        for day, total in days.items():
            day_totals.setdefault(day, GroupSummary()).merge(total)
    return PeriodSummary(first, last, merged, tuple(ids), filters), day_totals, by_center


def report_from_periods(
    periods: Iterable[PeriodSummary],
    day_totals: Mapping[date, GroupSummary],
    sla_minutes: Mapping[str, int],
    scope: Scope,
) -> Report:
    """The report for `scope` from summaries that partition its range, made with the
    scope's filters.

    `day_totals` is each day's ("all", "") group, for `by_day` (a month's summary does
    not have them). Percentiles come from histograms (`server/domain/histogram.py`).
    """
    if scope.from_day is None or scope.to_day is None:
        raise ValueError("a report from summaries needs both ends of its range")
    total = GroupSummary()
    groups: dict[str, dict[str, GroupSummary]] = {SERVICE: {}, COUNTER: {}, CLERK: {}, HOUR: {}}
    ids: list[int] = []
    covered: list[tuple[date, date]] = []
    for p in periods:
        if p.first < scope.from_day or p.last > scope.to_day:
            raise ValueError(f"summary {p.first}..{p.last} is outside the range")
        if p.filters != scope.filters:
            raise ValueError(f"summary {p.first}..{p.last} was made with other filters")
        covered.append((p.first, p.last))
        for (dim, key), g in p.groups.items():
            target = total if dim == ALL else groups[dim].setdefault(key, GroupSummary())
            target.merge(g)
        ids.extend(p.implausible_ids)
    covered.sort()
    for before, after in pairwise(covered):
        if after[0] <= before[1]:
            raise ValueError(f"summaries overlap at {after[0]}")

    counters = sorted(groups[COUNTER], key=counter_order)
    utilisation = {
        k: Utilisation(g.open_s, g.paused_s, g.serving_until(scope.to_day))
        for k, g in ((k, groups[COUNTER][k]) for k in counters)
    }
    overall = Utilisation()
    for u in utilisation.values():
        overall = overall + u
    by_day = {
        d: g.figures()
        for d, g in sorted(day_totals.items())
        if g.issued and scope.from_day <= d <= scope.to_day
    }
    return Report(
        scope=scope,
        totals=total.figures(),
        utilisation=overall,
        implausible_ids=tuple(sorted(ids)),
        sla_targets_min=dict(sorted(sla_minutes.items())),
        by_service={k: g.figures() for k, g in sorted(groups[SERVICE].items())},
        by_counter={k: groups[COUNTER][k].figures() for k in counters},
        counter_utilisation=utilisation,
        by_clerk={k: g.figures() for k, g in sorted(groups[CLERK].items())},
        by_hour={int(k): g.figures() for k, g in sorted(groups[HOUR].items())},
        by_day=by_day,
        percentiles="histogram",
    )
