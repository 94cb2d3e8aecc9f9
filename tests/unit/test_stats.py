"""Statistics: a day of tickets with known times, every figure checked exactly."""

import json
from datetime import UTC, date, datetime

import pytest

from taboor.server.domain.counters import CounterState
from taboor.server.domain.errors import InvalidInput
from taboor.server.domain.stats import (
    CounterInterval,
    Scope,
    Summary,
    TicketFacts,
    build_report,
    nearest_rank,
)
from taboor.server.domain.tickets import TicketState

S = TicketState
DAY = date(2026, 3, 1)
SLA = {"A": 10, "B": 25}  # minutes
MIN_S = {"A": 60, "B": 120}  # minimum plausible service time


def utc(hour, minute, second=0, day=1):
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def ticket(tid, service, issued, state, **kw):
    return TicketFacts(tid, service, issued, state, service_min_s=MIN_S[service], **kw)


def summary(mean=None, p50=None, p90=None, top=None, count=0):
    return {"mean": mean, "p50": p50, "p90": p90, "max": top, "count": count}


NO_DATA = summary()


def figures(issued=0, served=0, no_show=0, cancelled=0, pending=0, transferred=0, recalls=0,
            out_of_order=0, implausible=0, wait=NO_DATA, service=NO_DATA,
            sla=(None, 0, 0)):  # fmt: skip
    return {
        "issued": issued, "served": served, "no_show": no_show, "cancelled": cancelled,
        "pending": pending, "transferred": transferred, "recalls": recalls,
        "out_of_order": out_of_order, "implausible": implausible, "wait_s": wait,
        "service_s": service, "sla": {"ratio": sla[0], "within": sla[1], "total": sla[2]},
    }  # fmt: skip


def utilisation(open_s=0.0, paused_s=0.0, serving_s=0.0, ratio=None):
    return {"open_s": open_s, "paused_s": paused_s, "serving_s": serving_s, "ratio": ratio}


# 2026-03-01, Damascus (UTC+3): times below are UTC, local hour = UTC hour + 3.
TICKETS = [
    # wait 120, service 300
    ticket(1, "A", utc(5, 0), S.DONE, counter="1", clerk="sara", first_called_at=utc(5, 2),
           started_at=utc(5, 3), finished_at=utc(5, 8)),
    # wait 900: misses A's 10 minutes; service 240
    ticket(2, "A", utc(5, 5), S.DONE, counter="1", clerk="sara", first_called_at=utc(5, 20),
           started_at=utc(5, 21), finished_at=utc(5, 25)),
    # wait 120; service 30 s < 60 s: implausible
    ticket(3, "A", utc(5, 10), S.DONE, counter="2", clerk="omar", first_called_at=utc(5, 12),
           started_at=utc(5, 12, 30), finished_at=utc(5, 13)),
    # wait 600, service 600, one recall, called out of order
    ticket(4, "B", utc(6, 0), S.DONE, counter="2", clerk="omar", first_called_at=utc(6, 10),
           started_at=utc(6, 11), finished_at=utc(6, 21), recalls=1, out_of_order=True),
    # wait 1500 = B's 25 minutes exactly: within; then a no-show after two recalls
    ticket(5, "B", utc(6, 5), S.NO_SHOW, counter="2", clerk="omar", first_called_at=utc(6, 30),
           finished_at=utc(6, 33), recalls=2),
    # cancelled uncalled after 15 minutes: no wait, but an SLA miss (past A's 10 minutes)
    ticket(6, "A", utc(6, 10), S.CANCELLED, finished_at=utc(6, 25)),
    # cancelled uncalled after 5 minutes: no wait and not in the SLA
    ticket(7, "A", utc(6, 15), S.CANCELLED, finished_at=utc(6, 20)),
    # transferred A -> B: wait to the first call (05:35) = 300, service 600
    ticket(8, "B", utc(5, 30), S.DONE, counter="1", clerk="sara", first_called_at=utc(5, 35),
           started_at=utc(5, 51), finished_at=utc(6, 1), transferred=True),
    # still being served: wait 300, no service time yet
    ticket(9, "A", utc(7, 0), S.SERVING, counter="1", clerk="lina", first_called_at=utc(7, 5),
           started_at=utc(7, 6)),
    # still waiting
    ticket(10, "A", utc(7, 30), S.WAITING),
]  # fmt: skip

INTERVALS = [
    CounterInterval("1", CounterState.OPEN, utc(4, 55), utc(6, 30)),
    CounterInterval("1", CounterState.PAUSED, utc(6, 30), utc(6, 45)),
    CounterInterval("1", CounterState.OPEN, utc(6, 45), utc(7, 30)),
    CounterInterval("2", CounterState.OPEN, utc(5, 0), utc(6, 15)),
    # Ticket 4 is being served across this pause: those 5 minutes are not utilisation.
    CounterInterval("2", CounterState.PAUSED, utc(6, 15), utc(6, 20)),
    CounterInterval("2", CounterState.OPEN, utc(6, 20), utc(7, 0)),
]

TOTALS = figures(
    issued=10, served=5, no_show=1, cancelled=2, pending=2, transferred=1, recalls=3,
    out_of_order=1, implausible=1,
    wait=summary(548.6, 300.0, 1500.0, 1500.0, 7),
    service=summary(435.0, 300.0, 600.0, 600.0, 4),
    sla=(0.75, 6, 8),
)  # fmt: skip
BY_SERVICE = {
    "A": figures(issued=7, served=3, cancelled=2, pending=2, implausible=1,
                 wait=summary(360.0, 120.0, 900.0, 900.0, 4),
                 service=summary(270.0, 240.0, 300.0, 300.0, 2), sla=(0.6, 3, 5)),
    "B": figures(issued=3, served=2, no_show=1, transferred=1, recalls=3, out_of_order=1,
                 wait=summary(800.0, 600.0, 1500.0, 1500.0, 3),
                 service=summary(600.0, 600.0, 600.0, 600.0, 2), sla=(1.0, 3, 3)),
}  # fmt: skip
OMAR = figures(
    issued=3, served=2, no_show=1, recalls=3, out_of_order=1, implausible=1,
    wait=summary(740.0, 600.0, 1500.0, 1500.0, 3),
    service=summary(600.0, 600.0, 600.0, 600.0, 1), sla=(1.0, 3, 3),
)  # fmt: skip
BY_COUNTER = {
    "1": {
        **figures(issued=4, served=3, pending=1, transferred=1,
                  wait=summary(405.0, 300.0, 900.0, 900.0, 4),
                  service=summary(380.0, 300.0, 600.0, 600.0, 3), sla=(0.75, 3, 4)),
        "utilisation": utilisation(8400.0, 900.0, 1140.0, 0.1357),
    },
    "2": {**OMAR, "utilisation": utilisation(6900.0, 300.0, 330.0, 0.0478)},
}  # fmt: skip
BY_CLERK = {
    "lina": figures(issued=1, pending=1, wait=summary(300.0, 300.0, 300.0, 300.0, 1),
                    sla=(1.0, 1, 1)),
    "omar": OMAR,
    "sara": figures(issued=3, served=3, transferred=1,
                    wait=summary(440.0, 300.0, 900.0, 900.0, 3),
                    service=summary(380.0, 300.0, 600.0, 600.0, 3), sla=(0.6667, 2, 3)),
}  # fmt: skip
BY_HOUR = {
    "08": figures(issued=4, served=4, transferred=1, implausible=1,
                  wait=summary(360.0, 120.0, 900.0, 900.0, 4),
                  service=summary(380.0, 300.0, 600.0, 600.0, 3), sla=(0.75, 3, 4)),
    "09": figures(issued=4, served=1, no_show=1, cancelled=2, recalls=3, out_of_order=1,
                  wait=summary(1050.0, 600.0, 1500.0, 1500.0, 2),
                  service=summary(600.0, 600.0, 600.0, 600.0, 1), sla=(0.6667, 2, 3)),
    "10": figures(issued=2, pending=2, wait=summary(300.0, 300.0, 300.0, 300.0, 1),
                  sla=(1.0, 1, 1)),
}  # fmt: skip


@pytest.fixture
def report():
    return build_report(TICKETS, INTERVALS, SLA, Scope("Asia/Damascus", DAY, DAY)).to_dict()


def test_totals_count_every_outcome_and_summarise_waits_and_service_times(report):
    assert {k: report[k] for k in TOTALS} == TOTALS


def test_outcomes_add_up_to_issued(report):
    assert report["served"] + report["no_show"] + report["cancelled"] + report["pending"] == 10


def test_wait_counts_every_called_ticket_but_not_the_uncalled(report):
    # 7 tickets were called (served, no-show, transferred, being served); the two
    # cancelled while waiting and the one still waiting have no wait.
    assert report["wait_s"]["count"] == 7


def test_implausible_service_time_is_flagged_and_not_averaged(report):
    assert report["implausible"] == 1
    assert report["implausible_ids"] == [3]
    assert report["served"] == 5
    assert report["service_s"]["count"] == 4  # ticket 3's 30 s is not in the mean


def test_sla_uses_each_services_target_and_counts_abandonment_past_it(report):
    assert report["sla"] == {"ratio": 0.75, "within": 6, "total": 8}
    assert report["sla_targets_min"] == {"A": 10, "B": 25}


def test_by_service(report):
    assert report["by_service"] == BY_SERVICE


def test_by_counter_with_utilisation(report):
    assert report["by_counter"] == BY_COUNTER


def test_by_clerk(report):
    assert report["by_clerk"] == BY_CLERK


def test_by_local_hour(report):
    assert report["by_hour"] == BY_HOUR


def test_by_day_is_the_local_business_day(report):
    assert list(report["by_day"]) == ["2026-03-01"]
    assert report["by_day"]["2026-03-01"] == TOTALS


def test_overall_utilisation_sums_the_counters(report):
    assert report["utilisation"] == utilisation(15300.0, 1200.0, 1470.0, 0.0961)


def test_report_header_and_json_round_trip(report):
    assert report["timezone"] == "Asia/Damascus"
    assert (report["from"], report["to"]) == ("2026-03-01", "2026-03-01")
    assert report["filters"] == {"service": None, "counter": None, "clerk": None}
    assert json.loads(json.dumps(report)) == report


# --- filters ------------------------------------------------------------------------


def test_service_filter_keeps_only_that_service():
    report = build_report(TICKETS, INTERVALS, SLA, Scope(service="B")).to_dict()
    assert {k: report[k] for k in TOTALS} == BY_SERVICE["B"]
    assert list(report["by_service"]) == ["B"]
    assert report["filters"]["service"] == "B"
    # Open time belongs to the counter; serving time only to B's tickets (8 and 4).
    assert report["by_counter"]["1"]["utilisation"] == utilisation(8400.0, 900.0, 600.0, 0.0714)
    assert report["by_counter"]["2"]["utilisation"] == utilisation(6900.0, 300.0, 300.0, 0.0435)


def test_counter_filter_keeps_that_counter_and_its_intervals():
    report = build_report(TICKETS, INTERVALS, SLA, Scope(counter="2")).to_dict()
    assert {k: report[k] for k in TOTALS} == OMAR
    assert report["by_counter"] == {"2": BY_COUNTER["2"]}
    assert report["utilisation"] == utilisation(6900.0, 300.0, 330.0, 0.0478)


def test_clerk_filter_keeps_that_clerks_tickets():
    report = build_report(TICKETS, INTERVALS, SLA, Scope(clerk="sara")).to_dict()
    assert {k: report[k] for k in TOTALS} == BY_CLERK["sara"]
    assert list(report["by_clerk"]) == ["sara"]


def test_a_never_called_ticket_has_no_counter_so_a_counter_filter_drops_it():
    report = build_report(TICKETS, [], SLA, Scope(counter="1")).to_dict()
    assert report["issued"] == 4  # tickets 1, 2, 8, 9; not 6, 7, 10


# --- the local day across UTC midnight -----------------------------------------------

# Damascus midnight is 21:00 UTC. The 21:30 UTC ticket is on the next local day, hour 0.
LATE = [
    ticket(11, "A", utc(20, 50), S.DONE, counter="1", first_called_at=utc(21, 5),
           started_at=utc(21, 6), finished_at=utc(21, 12)),
    ticket(12, "A", utc(21, 30), S.DONE, counter="1", first_called_at=utc(21, 40),
           started_at=utc(21, 41), finished_at=utc(21, 46)),
    ticket(13, "A", utc(20, 59, 59, day=2), S.WAITING),
    ticket(14, "A", utc(21, 0, day=2), S.WAITING),
]  # fmt: skip
LATE_OPEN = [CounterInterval("1", CounterState.OPEN, utc(20, 0), utc(22, 0))]


def test_a_ticket_at_2130_utc_is_on_the_next_local_day_at_hour_zero():
    scope = Scope(from_day=date(2026, 3, 2), to_day=date(2026, 3, 2))
    report = build_report(LATE, LATE_OPEN, SLA, scope).to_dict()
    assert report["issued"] == 2  # 12 and 13; 11 is on March 1st, 14 on March 3rd
    assert list(report["by_day"]) == ["2026-03-02"]
    assert list(report["by_hour"]) == ["00", "23"]
    assert report["by_hour"]["00"]["issued"] == 1
    assert report["by_hour"]["00"]["wait_s"] == summary(600.0, 600.0, 600.0, 600.0, 1)
    assert report["by_hour"]["00"]["service_s"] == summary(300.0, 300.0, 300.0, 300.0, 1)
    # Open time is clipped to the local day: 21:00-22:00 UTC.
    assert report["utilisation"] == utilisation(3600.0, 0.0, 300.0, 0.0833)


def test_a_ticket_is_counted_on_the_day_it_was_issued_even_if_served_after_midnight():
    scope = Scope(from_day=date(2026, 3, 1), to_day=date(2026, 3, 2))
    report = build_report(LATE, LATE_OPEN, SLA, scope).to_dict()
    assert {d: f["issued"] for d, f in report["by_day"].items()} == {
        "2026-03-01": 1,
        "2026-03-02": 2,
    }
    assert report["by_day"]["2026-03-01"]["service_s"]["count"] == 1  # ticket 11, 21:06-21:12
    assert {h: f["issued"] for h, f in report["by_hour"].items()} == {"00": 1, "23": 2}
    assert report["utilisation"] == utilisation(7200.0, 0.0, 660.0, 0.0917)


def test_no_range_takes_every_day():
    report = build_report(LATE, [], SLA).to_dict()
    assert list(report["by_day"]) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert (report["from"], report["to"]) == (None, None)


def test_a_range_that_ends_before_it_starts_is_invalid_input():
    with pytest.raises(InvalidInput) as info:
        Scope(from_day=date(2026, 3, 2), to_day=date(2026, 3, 1))
    assert info.value.to_dict() == {
        "code": "bad_range",
        "message": "the range ends before it starts",
        "field": "to",
    }


# --- empty input and bad input --------------------------------------------------------


def test_empty_input_gives_zero_counts_and_none_figures():
    report = build_report([], [], {}).to_dict()
    assert {k: report[k] for k in TOTALS} == figures()
    assert report["utilisation"] == utilisation()
    assert report["implausible_ids"] == []
    for group in ("by_service", "by_counter", "by_clerk", "by_hour", "by_day"):
        assert report[group] == {}


def test_an_open_counter_without_tickets_has_zero_utilisation_not_an_error():
    report = build_report([], INTERVALS[:1], {}).to_dict()
    assert report["by_counter"] == {
        "1": {**figures(), "utilisation": utilisation(5700.0, 0.0, 0.0, 0.0)}
    }


def test_counters_sort_by_number():
    intervals = [CounterInterval(c, CounterState.OPEN, utc(5, 0), utc(6, 0))
                 for c in ("10", "2", "B", "1")]  # fmt: skip
    assert list(build_report([], intervals, {}).by_counter) == ["1", "2", "10", "B"]


def test_overlapping_open_intervals_are_not_counted_twice():
    twice = [INTERVALS[0], INTERVALS[0]]
    assert build_report([], twice, {}).utilisation.open_s == 5700.0


def test_a_service_without_an_sla_target_is_an_error():
    with pytest.raises(ValueError, match="no SLA target for service 'B'"):
        build_report(TICKETS, [], {"A": 10})


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        TicketFacts(1, "A", datetime(2026, 3, 1, 8, 0), S.WAITING)
    with pytest.raises(ValueError, match="timezone-aware"):
        CounterInterval("1", CounterState.OPEN, utc(5, 0), datetime(2026, 3, 1, 9, 0))


def test_an_interval_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="end before it starts"):
        CounterInterval("1", CounterState.OPEN, utc(6, 0), utc(5, 0))


def test_a_service_time_equal_to_the_minimum_is_plausible():
    t = ticket(1, "A", utc(5, 0), S.DONE, first_called_at=utc(5, 1), started_at=utc(5, 2),
               finished_at=utc(5, 3))  # fmt: skip
    report = build_report([t], [], SLA)
    assert (report.totals.implausible, report.totals.service_s.count) == (0, 1)


# --- the percentile method -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([15, 20, 35, 40, 50], 30, 20),  # the textbook nearest-rank example
        ([15, 20, 35, 40, 50], 40, 20),
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
        (list(range(1, 11)), 50, 5),  # even count: the lower middle, not 5.5
        (list(range(1, 11)), 90, 9),  # rank exactly 9, not 10 (no float ceiling error)
        (list(range(1, 11)), 91, 10),
        ([7], 1, 7),
        ([7], 90, 7),
        ([], 50, None),
    ],
)
def test_nearest_rank_percentile(values, p, expected):
    assert nearest_rank(values, p) == expected


@pytest.mark.parametrize("p", [0, 101, -5])
def test_nearest_rank_refuses_out_of_range_percentiles(p):
    with pytest.raises(ValueError):
        nearest_rank([1, 2, 3], p)


def test_summary_rounds_to_a_tenth_of_a_second():
    assert Summary.of([1.04, 2.0, 2.26]).to_dict() == summary(1.8, 2.0, 2.3, 2.3, 3)
