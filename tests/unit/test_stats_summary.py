"""Reports over many days from day summaries: the same figures as from tickets, with
p50/p90 from histograms to the documented resolution (server/domain/stats.py)."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from taboor.server.domain.counters import CounterState
from taboor.server.domain.histogram import HIST_EDGES, HIST_LINEAR_S, Durations, bucket_of
from taboor.server.domain.stats import (
    CounterInterval,
    Scope,
    Summary,
    TicketFacts,
    build_report,
)
from taboor.server.domain.summaries import (
    ALL,
    COUNTER,
    GroupSummary,
    PeriodSummary,
    report_from_periods,
    rollup,
    summarise_days,
)
from taboor.server.domain.tickets import TicketState

S = TicketState
TZ = "Asia/Damascus"  # UTC+3: local midnight is 21:00 UTC the day before
SLA = {"A": 10, "B": 25, "C": 15}
MIN_S = {"A": 60, "B": 120, "C": 30}
COUNTERS = ("1", "2", "3", "10")
CLERKS = ("sara", "omar", "lina", "rami")
FIRST = date(2026, 2, 20)
DAYS = 14  # 2026-02-20 .. 2026-03-05: crosses a month end


def local(day: date, hour: float) -> datetime:
    """A local wall-clock time in Damascus as UTC (hour may exceed 24: after midnight)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 3)


def generated_days(seed: int = 5) -> tuple[list[TicketFacts], list[CounterInterval]]:
    """Days of tickets with every outcome, some served after midnight, and counters
    that open, pause, close and sometimes stay open past midnight."""
    rng = random.Random(seed)
    tickets, intervals = [], []
    tid = 0
    for n in range(DAYS):
        day = FIRST + timedelta(days=n)
        if day.weekday() == 4:
            continue  # Fridays closed: days without tickets are part of the range too
        for counter in COUNTERS:
            opens, pause = 7.5 + rng.random(), 11 + rng.random()
            closes = 24.5 if counter == "10" and n % 3 == 0 else 15 + rng.random()
            intervals += [
                CounterInterval(counter, CounterState.OPEN, local(day, opens), local(day, pause)),
                CounterInterval(counter, CounterState.PAUSED, local(day, pause),
                                local(day, pause + 0.25)),
                CounterInterval(counter, CounterState.OPEN, local(day, pause + 0.25),
                                local(day, closes)),
            ]  # fmt: skip
        for _ in range(rng.randint(40, 80)):
            tid += 1
            service = rng.choice("ABC")
            late = rng.random() < 0.05
            issued = local(day, 23.7 + rng.random() * 0.2 if late else 8 + rng.random() * 7)
            counter, clerk = rng.choice(COUNTERS), rng.choice(CLERKS)
            if late:
                counter = "10"
            called = issued + timedelta(seconds=rng.expovariate(1 / 700))
            started = called + timedelta(seconds=rng.uniform(5, 60))
            length = rng.choice([rng.uniform(5, 50), rng.lognormvariate(5.5, 0.6)])
            finished = started + timedelta(seconds=length)
            fate = rng.random()
            kw = {"service_min_s": MIN_S[service], "recalls": rng.choice([0, 0, 0, 1, 2]),
                  "out_of_order": rng.random() < 0.05,
                  "transferred": rng.random() < 0.05}  # fmt: skip
            if fate < 0.7:
                t = TicketFacts(tid, service, issued, S.DONE, counter=counter, clerk=clerk,
                                first_called_at=called, started_at=started,
                                finished_at=finished, **kw)  # fmt: skip
            elif fate < 0.8:
                t = TicketFacts(tid, service, issued, S.NO_SHOW, counter=counter, clerk=clerk,
                                first_called_at=called, finished_at=started, **kw)  # fmt: skip
            elif fate < 0.9:
                gone = issued + timedelta(seconds=rng.uniform(60, 2400))
                t = TicketFacts(tid, service, issued, S.CANCELLED, finished_at=gone, **kw)
            elif fate < 0.95:
                t = TicketFacts(tid, service, issued, S.SERVING, counter=counter, clerk=clerk,
                                first_called_at=called, started_at=started, **kw)  # fmt: skip
            else:
                t = TicketFacts(tid, service, issued, S.WAITING, **kw)
            tickets.append(t)
    return tickets, intervals


TICKETS, INTERVALS = generated_days()
ALL_DAYS = [FIRST + timedelta(days=n) for n in range(DAYS)]


def within_resolution(exact: float | None, approx: float | None) -> bool:
    """The documented bound: never below; above by under 1 s, or 1 % past 100 s
    (plus the 0.1 s the report rounds to)."""
    if exact is None or approx is None:
        return exact is approx
    return exact <= approx <= exact + max(1.0, exact * 0.01) + 0.1


def assert_same_figures(exact: dict, merged: dict) -> None:
    """Equal in everything but p50/p90, which must be within the resolution."""
    if isinstance(exact, dict):
        assert set(exact) == set(merged)
        for key in exact:
            if key in ("p50", "p90"):
                assert within_resolution(exact[key], merged[key]), (key, exact, merged)
            elif key != "percentiles":
                assert_same_figures(exact[key], merged[key])
    elif isinstance(exact, float) and isinstance(merged, float):
        # Sums added up in another order may round the other way at the 0.1 s shown.
        assert merged == pytest.approx(exact, abs=0.11)
    else:
        assert exact == merged


def merged_report(first: date, last: date, months: tuple[tuple[date, date], ...] = ()) -> dict:
    days = summarise_days(TICKETS, INTERVALS, SLA, TZ, [d for d in ALL_DAYS if first <= d <= last])
    periods = [p for d, p in days.items() if not any(a <= d <= b for a, b in months)]
    periods += [rollup([days[d] for d in days if a <= d <= b]) for a, b in months]
    totals = {d: p.total for d, p in days.items()}
    return report_from_periods(periods, totals, SLA, Scope(TZ, first, last)).to_dict()


def exact_report(first: date, last: date) -> dict:
    return build_report(TICKETS, INTERVALS, SLA, Scope(TZ, first, last)).to_dict()


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (ALL_DAYS[0], ALL_DAYS[-1]),  # every day, across the month end
        (ALL_DAYS[3], ALL_DAYS[4]),  # two days
        (ALL_DAYS[2], ALL_DAYS[2]),  # one day
        (ALL_DAYS[5], ALL_DAYS[9]),  # ends on a day whose tickets are served after midnight
    ],
)
def test_summaries_merged_give_the_exact_figures_with_percentiles_to_the_resolution(first, last):
    exact, merged = exact_report(first, last), merged_report(first, last)
    assert exact["issued"] > 0
    assert_same_figures(exact, merged)
    assert merged["percentiles"]["method"] == "histogram"
    assert exact["percentiles"] == {"method": "exact"}


def test_a_month_rolled_up_gives_the_same_report_as_its_days():
    first, last = date(2026, 2, 20), date(2026, 3, 5)
    february = ((date(2026, 2, 20), date(2026, 2, 28)),)  # stands in for a whole month
    assert merged_report(first, last, february) == merged_report(first, last)


def test_serving_after_midnight_counts_only_when_the_range_includes_that_day():
    # Counter 10 stays open past midnight every third day, serving tickets issued at 23:40.
    day = next(
        d for d in ALL_DAYS if (d - FIRST).days % 3 == 0 and any(
            t.counter == "10" and t.state == S.DONE and local(d, 23.5) <= t.issued_at
            < local(d, 24) < t.finished_at for t in TICKETS)
    )  # fmt: skip
    for last in (day, day + timedelta(days=1)):
        exact = exact_report(day, last)["by_counter"]["10"]["utilisation"]
        if last == day:
            # A one-day range from summaries: merge the day's summary alone.
            summary = summarise_days(TICKETS, INTERVALS, SLA, TZ, [day])[day]
            merged = report_from_periods([summary], {day: summary.total}, SLA,
                                         Scope(TZ, day, day)).to_dict()  # fmt: skip
        else:
            merged = merged_report(day, last)
        assert merged["by_counter"]["10"]["utilisation"] == exact


def test_a_day_summary_keeps_serving_after_midnight_apart():
    day = ALL_DAYS[0]
    issued = local(day, 23.8)
    t = TicketFacts(1, "A", issued, S.DONE, counter="1", first_called_at=issued,
                    started_at=local(day, 23.9), finished_at=local(day, 24.4),
                    service_min_s=60)  # fmt: skip
    open_late = [CounterInterval("1", CounterState.OPEN, local(day, 23), local(day, 26))]
    summary = summarise_days([t], open_late, SLA, TZ, [day])[day]
    group = summary.groups[(COUNTER, "1")]
    assert group.serving_s == pytest.approx(360.0)  # 23:54 to midnight
    assert group.serving_later == {day + timedelta(days=1): pytest.approx(1440.0)}
    assert group.serving_until(day) == pytest.approx(360.0)
    assert group.serving_until(day + timedelta(days=1)) == pytest.approx(1800.0)
    assert group.open_s == pytest.approx(3600.0)  # 23:00 to midnight only
    # Rolled up with the next day, the late part becomes the period's own.
    following = summarise_days([], open_late, SLA, TZ, [day + timedelta(days=1)])
    both = rollup([summary, following[day + timedelta(days=1)]])
    assert both.groups[(COUNTER, "1")].serving_s == pytest.approx(1800.0)
    assert both.groups[(COUNTER, "1")].serving_later == {}


def test_every_day_of_the_range_is_summarised_even_without_tickets():
    friday = next(d for d in ALL_DAYS if d.weekday() == 4)
    summary = summarise_days(TICKETS, [], SLA, TZ, [friday])[friday]
    assert summary.groups == {(ALL, ""): summary.total} and summary.total.issued == 0


def test_a_ticket_issued_on_another_day_is_not_in_the_days_summary():
    days = summarise_days(TICKETS, INTERVALS, SLA, TZ, [ALL_DAYS[1]])
    exact = exact_report(ALL_DAYS[1], ALL_DAYS[1])
    assert days[ALL_DAYS[1]].total.issued == exact["issued"]


# --- histograms ---------------------------------------------------------------------


def test_buckets_are_one_second_wide_then_one_percent_wider_each():
    assert HIST_EDGES[:HIST_LINEAR_S] == tuple(float(s) for s in range(1, HIST_LINEAR_S + 1))
    for lower, upper in zip(HIST_EDGES[HIST_LINEAR_S - 1 : -2], HIST_EDGES[HIST_LINEAR_S:-1],
                            strict=True):  # fmt: skip
        assert upper / lower == pytest.approx(1.01)
    assert HIST_EDGES[-2] >= 7 * 86400 and HIST_EDGES[-1] == float("inf")


@pytest.mark.parametrize("seconds", [0.0, -3.0, 0.5, 1.0, 1.000001, 99.99, 100.0, 101.0,
                                     101.00001, 3600.0, 604800.0, 10**7])  # fmt: skip
def test_a_duration_falls_in_the_bucket_whose_upper_edge_is_the_first_at_or_above_it(seconds):
    b = bucket_of(seconds)
    assert seconds <= HIST_EDGES[b]
    assert b == 0 or HIST_EDGES[b - 1] < seconds


@pytest.mark.parametrize("seed", range(8))
def test_histogram_percentiles_are_never_below_the_exact_and_within_the_resolution(seed):
    rng = random.Random(seed)
    values = [rng.choice([rng.uniform(0, 120), rng.lognormvariate(6, 1.2)])
              for _ in range(rng.randint(1, 3000))]  # fmt: skip
    exact, merged = Summary.of(values), Summary.of_durations(Durations.of(values))
    assert (merged.count, merged.max) == (exact.count, exact.max)
    assert merged.mean == pytest.approx(exact.mean, abs=0.05)
    assert within_resolution(exact.p50, merged.p50)
    assert within_resolution(exact.p90, merged.p90)


def test_one_value_gives_its_exact_percentiles():
    summary = Summary.of_durations(Durations.of([1234.5]))
    assert (summary.p50, summary.p90, summary.max) == (1234.5, 1234.5, 1234.5)


def test_merging_durations_is_the_durations_of_all_the_values():
    rng = random.Random(1)
    a = [rng.uniform(0, 5000) for _ in range(500)]
    b = [rng.uniform(0, 50) for _ in range(300)]
    merged = Durations.of(a)
    merged.merge(Durations.of(b))
    whole = Durations.of(a + b)
    assert (merged.count, merged.high, merged.hist) == (whole.count, whole.high, whole.hist)
    assert merged.total == pytest.approx(whole.total)
    assert sum(merged.counts()) == 800


def test_a_histogram_survives_storage():
    d = Durations.of([1.0, 250.0, 250.0, 86400.0 * 30])
    assert Durations.histogram_from(d.histogram_bytes()) == d.hist
    assert Durations().histogram_bytes() == b"" and Durations.histogram_from(b"") == 0


# --- misuse -------------------------------------------------------------------------


def test_summaries_refuse_a_filtered_scope():
    days = summarise_days(TICKETS, INTERVALS, SLA, TZ, ALL_DAYS[:2])
    with pytest.raises(ValueError, match="filter"):
        report_from_periods(days.values(), {}, SLA, Scope(TZ, ALL_DAYS[0], ALL_DAYS[1],
                                                          service="A"))  # fmt: skip


def test_summaries_that_overlap_or_leave_the_range_are_refused():
    days = summarise_days(TICKETS, INTERVALS, SLA, TZ, ALL_DAYS[:3])
    two = rollup([days[ALL_DAYS[0]], days[ALL_DAYS[1]]])
    with pytest.raises(ValueError, match="overlap"):
        report_from_periods([two, days[ALL_DAYS[1]]], {}, SLA, Scope(TZ, *ALL_DAYS[:2]))
    with pytest.raises(ValueError, match="outside"):
        report_from_periods([days[ALL_DAYS[2]]], {}, SLA, Scope(TZ, *ALL_DAYS[:2]))


def test_a_rollup_needs_consecutive_periods():
    days = summarise_days(TICKETS, INTERVALS, SLA, TZ, [ALL_DAYS[0], ALL_DAYS[2]])
    with pytest.raises(ValueError, match="consecutive"):
        rollup(list(days.values()))
    with pytest.raises(ValueError, match="nothing"):
        rollup([])


def test_a_period_summary_without_groups_has_an_empty_total():
    assert PeriodSummary(ALL_DAYS[0], ALL_DAYS[0]).total.issued == 0


def test_merging_groups_adds_every_count():
    ones = GroupSummary(**{name: 1 for name in GroupSummary.COUNTS})
    total = GroupSummary()
    total.merge(ones)
    total.merge(ones)
    assert {name: getattr(total, name) for name in GroupSummary.COUNTS} == dict.fromkeys(
        GroupSummary.COUNTS, 2
    )
